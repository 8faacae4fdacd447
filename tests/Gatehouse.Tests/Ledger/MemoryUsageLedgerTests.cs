using Gatehouse.Chat;
using Gatehouse.Ledger;

namespace Gatehouse.Tests.Ledger;

public sealed class MemoryUsageLedgerTests
{
    [Fact]
    public async Task Sink_KeepsTheLastCapacityRecordsOldestFirst()
    {
        var sink = new MemoryUsageSink(capacity: 3);

        await sink.WriteAsync([.. Enumerable.Range(1, 5).Select(i => UsageRecords.Upstream(prompt: i))], CancellationToken.None);

        Assert.Equal([3, 4, 5], sink.Snapshot().Select(r => r.PromptTokens));
        Assert.Equal(2, sink.Overwritten);
    }

    [Fact]
    public void Aggregate_GroupsAndSumsBilledTokensCostAndSavings()
    {
        UsageRecord[] records =
        [
            UsageRecords.Upstream(app: "a", prompt: 10, completion: 1, cost: 0.5m),
            UsageRecords.Upstream(app: "a", prompt: 20, completion: 2, cost: 0.25m, cache: CacheStatus.Bypass),
            UsageRecords.Upstream(app: "a", prompt: 0, completion: 0, cost: 0m, status: "UpstreamFailed"),
            // The failed request's fallback: an upstream call, not another request.
            UsageRecords.Upstream(app: "a", prompt: 3, completion: 1, cost: 0.125m, attempt: 2),
            UsageRecords.Hit(app: "a", saved: 0.125m),
            UsageRecords.Upstream(app: "b", prompt: 5, completion: 5, cost: 1m),
        ];

        var rows = MemoryUsageQuery.Aggregate(records, new UsageFilter { GroupBy = UsageGrouping.App });

        Assert.Equal(
            [
                new UsageRow("a", null, null, null, 4, 4, 1, 33, 4, 0.875m, 0.125m),
                new UsageRow("b", null, null, null, 1, 1, 0, 5, 5, 1m, 0m),
            ],
            rows);
    }

    [Fact]
    public void Aggregate_FiltersByAppAliasAndHalfOpenTimeRange()
    {
        var t = UsageRecords.Day1;
        UsageRecord[] records =
        [
            UsageRecords.Upstream(app: "a", alias: "x", at: t.AddHours(-1)),
            UsageRecords.Upstream(app: "a", alias: "x", at: t),
            UsageRecords.Upstream(app: "a", alias: "y", at: t),
            UsageRecords.Upstream(app: "b", alias: "x", at: t),
            UsageRecords.Upstream(app: "a", alias: "x", at: t.AddHours(1)),
        ];

        var row = Assert.Single(MemoryUsageQuery.Aggregate(records, new UsageFilter { App = "a", Alias = "x", From = t, To = t.AddHours(1) }));

        Assert.Equal(1, row.Requests);
    }

    [Fact]
    public void Aggregate_ByDayUsesTheUtcDay()
    {
        var lateEvening = new DateTimeOffset(2026, 3, 1, 23, 30, 0, TimeSpan.FromHours(-2));

        var row = Assert.Single(MemoryUsageQuery.Aggregate([UsageRecords.Upstream(at: lateEvening)], new UsageFilter { GroupBy = UsageGrouping.Day }));

        Assert.Equal(new DateOnly(2026, 3, 2), row.Day);
    }

    [Theory]
    [InlineData("app", UsageGrouping.App)]
    [InlineData("day,Provider", UsageGrouping.Day | UsageGrouping.Provider)]
    [InlineData("", UsageGrouping.None)]
    [InlineData(null, UsageGrouping.None)]
    public void TryParseGroupBy_AcceptsTheFields(string? value, UsageGrouping expected)
    {
        Assert.True(UsageFilter.TryParseGroupBy(value, out var grouping, out _));
        Assert.Equal(expected, grouping);
    }

    [Fact]
    public void TryParseGroupBy_NamesAnUnknownField()
    {
        Assert.False(UsageFilter.TryParseGroupBy("app,model", out _, out var error));
        Assert.Contains("'model'", error);
    }
}
