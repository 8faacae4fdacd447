using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;

namespace Gatehouse.Apps;

/// <summary>Hashes app keys: keys are kept and compared only as lowercase hex SHA-256.</summary>
public static class AppKeyHasher
{
    public const string HashPrefix = "sha256:";

    /// <summary>The lowercase hex SHA-256 of the UTF-8 key.</summary>
    public static string Hash(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (maxBytes <= 512)
        {
            Span<byte> utf8 = stackalloc byte[maxBytes];
            var length = Encoding.UTF8.GetBytes(key, utf8);
            SHA256.HashData(utf8[..length], hash);
        }
        else
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        }

        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// Turns a configured key (plain text, <c>sha256:&lt;hex&gt;</c> or <c>env:NAME</c>) into its hash,
    /// or returns null with the reason in <paramref name="error"/>.
    /// </summary>
    public static string? TryHashConfiguredKey(string? configured, out string? error)
    {
        error = null;
        // Callers' keys are trimmed when read from headers, so configured keys must be too or they could never match.
        var value = SecretValue.Resolve(configured)?.Trim();
        if (string.IsNullOrWhiteSpace(value))
        {
            error = configured?.StartsWith(SecretValue.EnvironmentPrefix, StringComparison.Ordinal) == true
                ? "refers to an environment variable that is not set."
                : "must not be empty.";
            return null;
        }

        if (!value.StartsWith(HashPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Hash(value);
        }

        var hex = value[HashPrefix.Length..];
        if (hex.Length != SHA256.HashSizeInBytes * 2 || !hex.All(char.IsAsciiHexDigit))
        {
            error = "must be 'sha256:' followed by 64 hex digits.";
            return null;
        }

        return hex.ToLowerInvariant();
    }
}
