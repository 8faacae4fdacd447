namespace Gatehouse.Ledger;

/// <summary>The usage query over this silo's <see cref="MemoryUsageSink"/> (only the records it still holds).</summary>
public sealed class MemoryUsageQuery(MemoryUsageSink sink) : IUsageQuery
{
    public Task<IReadOnlyList<UsageRow>> QueryAsync(UsageFilter filter, CancellationToken cancellationToken) =>
        Task.FromResult(Aggregate(sink.Snapshot(), filter));

    /// <summary>Groups and sums <paramref name="records"/> as the SQL query does.</summary>
    public static IReadOnlyList<UsageRow> Aggregate(IEnumerable<UsageRecord> records, UsageFilter filter)
    {
        var by = filter.GroupBy;
        return [.. records
            .Where(r => filter.Matches(r))
            .GroupBy(r => (
                App: by.HasFlag(UsageGrouping.App) ? r.AppId : null,
                Alias: by.HasFlag(UsageGrouping.Alias) ? r.Alias : null,
                Provider: by.HasFlag(UsageGrouping.Provider) ? r.Provider : null,
                Day: by.HasFlag(UsageGrouping.Day) ? DateOnly.FromDateTime(r.Time.UtcDateTime) : (DateOnly?)null))
            .Select(g => new UsageRow(
                g.Key.App,
                g.Key.Alias,
                g.Key.Provider,
                g.Key.Day,
                g.LongCount(r => r.IsClientRequest),
                g.LongCount(r => r.IsUpstreamCall),
                g.LongCount(r => !r.IsUpstreamCall),
                g.Where(r => r.IsUpstreamCall).Sum(r => (long)r.PromptTokens),
                g.Where(r => r.IsUpstreamCall).Sum(r => (long)r.CompletionTokens),
                g.Sum(r => r.CostUsd),
                g.Sum(r => r.SavedUsd)))
            .OrderBy(r => r.Day)
            .ThenBy(r => r.App, StringComparer.Ordinal)
            .ThenBy(r => r.Alias, StringComparer.Ordinal)
            .ThenBy(r => r.Provider, StringComparer.Ordinal)];
    }
}
