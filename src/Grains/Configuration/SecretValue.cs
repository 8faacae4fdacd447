namespace Gatehouse.Configuration;

/// <summary>Resolves configuration values that may name an environment variable (<c>env:NAME</c>).</summary>
public static class SecretValue
{
    /// <summary>The prefix that marks a value as the name of an environment variable.</summary>
    public const string EnvironmentPrefix = "env:";

    /// <summary>
    /// Returns <paramref name="value"/> itself, or, when it is <c>env:NAME</c>, the value of environment variable NAME.
    /// Returns null when the value is null or empty, or when the variable is unset or empty.
    /// </summary>
    public static string? Resolve(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (!value.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
        {
            return value;
        }

        var name = value[EnvironmentPrefix.Length..].Trim();
        if (name.Length == 0)
        {
            return null;
        }

        // An empty variable is treated as unset: "export OPENAI_API_KEY=" must not yield an empty bearer token.
        var resolved = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(resolved) ? null : resolved;
    }
}
