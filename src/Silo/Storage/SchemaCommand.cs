using Gatehouse.Configuration;
using Gatehouse.Silo.Configuration;
using Npgsql;

namespace Gatehouse.Silo.Storage;

/// <summary>
/// <c>Gatehouse.Silo migrate</c>: applies the database schema to the PostgreSQL database the silo's configuration
/// names, then exits. Safe to run any number of times, also while silos run.
/// </summary>
internal static class SchemaCommand
{
    public const string Verb = "migrate";

    private const string StorageKey = "Gatehouse:Storage:ConnectionString";
    private const string ClusterKey = "Gatehouse:Cluster:ConnectionString";

    public static async Task<int> RunAsync(string[] args)
    {
        string? connectionString = null;
        try
        {
            connectionString = ReadConnectionString(args);
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };

            var result = await DatabaseSchema.ApplyAsync(connectionString, cancel.Token);
            foreach (var script in result.Applied)
            {
                Console.WriteLine(script.Reapplied ? $"Re-applied {script.Name} (changed since it was applied)" : $"Applied {script.Name}");
            }

            Console.WriteLine($"Schema up to date ({result.Applied.Count} scripts applied, {result.AlreadyPresent.Count} already present).");
            return 0;
        }
        catch (Exception ex)
        {
            // Every failure, expected or not, is one plain line: no stack trace that could carry configuration.
            var reason = ConnectionStringRedaction.Redact(Describe(ex), connectionString);
            await Console.Error.WriteLineAsync($"Gatehouse cannot apply the schema: {reason}");
            return 1;
        }
    }

    /// <summary>The storage connection string (or the cluster's), read from the same sources as the silo.</summary>
    private static string ReadConnectionString(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        GatehouseConfiguration.AddSources(builder.Configuration, args);
        var configuration = builder.Configuration;

        var key = !string.IsNullOrWhiteSpace(configuration[StorageKey]) ? StorageKey : ClusterKey;
        var configured = configuration[key];
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new SchemaException($"no connection string: set {StorageKey} (or {ClusterKey}).");
        }

        return SecretValue.Resolve(configured)
            ?? throw new SchemaException($"{key} is '{configured}', but that environment variable is not set.");
    }

    /// <summary>The exception's message and its causes', e.g. "Failed to connect to 127.0.0.1:1 (Connection refused)".</summary>
    private static string Describe(Exception ex)
    {
        var parts = new List<string>();
        for (var current = ex; current is not null; current = current.InnerException)
        {
            var message = current is PostgresException pg ? $"{pg.MessageText} (SQLSTATE {pg.SqlState})" : current.Message;
            if (!parts.Exists(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message);
            }
        }

        return parts.Count == 1 ? parts[0] : $"{parts[0]} ({string.Join("; ", parts.Skip(1))})";
    }
}
