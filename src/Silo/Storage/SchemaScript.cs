using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Silo.Storage;

/// <summary>One SQL script of the database schema, embedded in the silo assembly from <c>Storage/Schema</c>.</summary>
/// <param name="Name">The file name, e.g. <c>0001-orleans-clustering.sql</c>; scripts apply in ordinal order of it.</param>
/// <param name="Text">The SQL, with line endings normalised to LF.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of <paramref name="Text"/> in UTF-8.</param>
/// <param name="ReRunnable">
/// True when the script's first line is <see cref="ReRunnableMarker"/>: it is idempotent, and is applied again
/// whenever its content changes. Any other script is applied once and must never change afterwards.
/// </param>
internal sealed record SchemaScript(string Name, string Text, string Sha256, bool ReRunnable)
{
    public const string ReRunnableMarker = "-- gatehouse:re-runnable";

    private const string ResourcePrefix = "Gatehouse.Silo.Storage.Schema.";

    /// <summary>The embedded scripts, in the order they apply.</summary>
    public static IReadOnlyList<SchemaScript> Embedded { get; } = Load(typeof(SchemaScript).Assembly);

    public static SchemaScript From(string name, string text)
    {
        // A checkout with CRLF endings must not look like a changed script.
        var normalised = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalised)));
        var firstLine = normalised.Split('\n', 2)[0].Trim();
        return new SchemaScript(name, normalised, hash, firstLine == ReRunnableMarker);
    }

    private static SchemaScript[] Load(Assembly assembly)
    {
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            scripts.Add(From(resource[ResourcePrefix.Length..], reader.ReadToEnd()));
        }

        return [.. scripts.OrderBy(s => s.Name, StringComparer.Ordinal)];
    }
}
