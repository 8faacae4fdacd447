using System.Data.Common;
using System.Text.RegularExpressions;

namespace Gatehouse.Silo.Storage;

/// <summary>Removes a connection string's password from text that is about to be printed.</summary>
internal static partial class ConnectionStringRedaction
{
    private const string Mask = "***";

    /// <summary>
    /// Returns <paramref name="text"/> with every <c>Password=…</c> pair masked and, when
    /// <paramref name="connectionString"/> has a password, every occurrence of that password too.
    /// </summary>
    public static string Redact(string text, string? connectionString)
    {
        var redacted = PasswordPair().Replace(text, m => $"{m.Groups["key"].Value}={Mask}");
        var password = PasswordOf(connectionString);
        return string.IsNullOrEmpty(password) ? redacted : redacted.Replace(password, Mask, StringComparison.Ordinal);
    }

    private static string? PasswordOf(string? connectionString)
    {
        if (string.IsNullOrEmpty(connectionString))
        {
            return null;
        }

        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in new[] { "Password", "Pwd" })
            {
                if (builder.TryGetValue(key, out var value) && value is string { Length: > 0 } password)
                {
                    return password;
                }
            }
        }
        catch (ArgumentException)
        {
            // Not parseable: the pattern below still masks a Password= pair.
        }

        return null;
    }

    [GeneratedRegex(@"(?<key>\b(?:password|pwd))\s*=\s*(?:'[^']*'|""[^""]*""|[^;]*)", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordPair();
}
