namespace Gatehouse.Ledger;

/// <summary>What a usage query selects: records of the app and alias when given, with <c>From &lt;= time &lt; To</c>, grouped by <see cref="GroupBy"/>.</summary>
public sealed record UsageFilter
{
    public string? App { get; init; }
    public string? Alias { get; init; }
    /// <summary>Inclusive.</summary>
    public DateTimeOffset? From { get; init; }
    /// <summary>Exclusive.</summary>
    public DateTimeOffset? To { get; init; }
    public UsageGrouping GroupBy { get; init; }

    /// <summary>Parses a <c>groupBy</c> value (<c>app</c>, <c>alias</c>, <c>provider</c>, <c>day</c>, or several comma-separated); empty: no grouping.</summary>
    /// <returns>False, with the offending part in <paramref name="error"/>, for an unknown field.</returns>
    public static bool TryParseGroupBy(string? value, out UsageGrouping grouping, out string? error)
    {
        grouping = UsageGrouping.None;
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var field = part.ToLowerInvariant() switch
            {
                "app" => UsageGrouping.App,
                "alias" => UsageGrouping.Alias,
                "provider" => UsageGrouping.Provider,
                "day" => UsageGrouping.Day,
                _ => (UsageGrouping?)null,
            };
            if (field is null)
            {
                error = $"groupBy: '{part}' is not one of app, alias, provider, day";
                grouping = UsageGrouping.None;
                return false;
            }

            grouping |= field.Value;
        }

        return true;
    }

    /// <summary>True when <paramref name="record"/> is selected (the grouping aside).</summary>
    public bool Matches(in UsageRecord record) =>
        (App is null || string.Equals(record.AppId, App, StringComparison.Ordinal))
        && (Alias is null || string.Equals(record.Alias, Alias, StringComparison.Ordinal))
        && (From is null || record.Time >= From.Value)
        && (To is null || record.Time < To.Value);
}
