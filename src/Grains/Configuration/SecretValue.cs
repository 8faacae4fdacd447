namespace Gatehouse.Configuration;

/// <summary>Resolves configuration values that may point at a secret held in an environment variable.</summary>
public static class SecretValue
{
    public const string EnvironmentPrefix = "env:";

    /// <summary>
    /// Returns <paramref name="value"/>, or for <c>env:NAME</c> the value of environment variable NAME
    /// (null when it is unset or empty).
    /// </summary>
    public static string? Resolve(string? value)
    {
        if (value is null || !value.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
        {
            return value;
        }

        var resolved = Environment.GetEnvironmentVariable(value[EnvironmentPrefix.Length..]);
        return string.IsNullOrEmpty(resolved) ? null : resolved;
    }
}
