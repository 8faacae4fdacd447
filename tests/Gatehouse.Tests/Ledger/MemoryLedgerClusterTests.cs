using Gatehouse.Chat;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Gatehouse.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Ledger;

/// <summary>With <c>Storage:Kind Memory</c> (the test cluster's), each silo's ledger keeps its records in its memory ring.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class MemoryLedgerClusterTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly CacheClusterFixture _fixture;

    public MemoryLedgerClusterTests(CacheClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    /// <summary>Each silo's records, oldest first.</summary>
    private UsageRecord[][] Records() =>
        [.. _fixture.Cluster.Silos.Select(s => _fixture.ServicesOf(s).GetRequiredService<MemoryUsageSink>().Snapshot())];

    /// <summary>Moves the cluster's fake clock on until every silo's ledger has written what it holds.</summary>
    private async Task FlushAll()
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (_fixture.Cluster.Silos.Any(s => _fixture.ServicesOf(s).GetRequiredService<IUsageLedger>().Pending > 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "the ledgers did not flush");
            _fixture.Time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task MissThenHit_OneUpstreamRecordAndOneHitRecordWithItsSaving()
    {
        await FlushAll();
        var before = Records().Select(r => r.Length).ToArray();
        var request = new ChatRequest
        {
            Model = CacheClusterFixture.Alias,
            Messages = [ChatMessage.FromText(ChatRole.User, $"ledger {Guid.NewGuid():n}")],
            Temperature = 0,
        };
        var pipeline = _fixture.PipelineOf(_fixture.Cluster.Silos[0]);

        var first = await pipeline.CompleteAsync(_fixture.App, request, CallOptions.Default, CancellationToken.None);
        var second = await pipeline.CompleteAsync(_fixture.App, request, CallOptions.Default, CancellationToken.None);
        await FlushAll();

        Assert.Equal((CacheStatus.Miss, CacheStatus.Hit), (first.Route!.Cache, second.Route!.Cache));
        var added = Records().SelectMany((records, silo) => records[before[silo]..]).ToArray();
        Assert.Equal(2, added.Length);
        var miss = Assert.Single(added, r => r.Cache == CacheStatus.Miss);
        var hit = Assert.Single(added, r => r.Cache == CacheStatus.Hit);
        Assert.Equal((_fixture.App.AppId, CacheClusterFixture.Alias, CacheClusterFixture.Provider, 1, UsageStatus.Ok), (miss.AppId, miss.Alias, miss.Provider, miss.Attempts, miss.Status));
        Assert.Equal((first.Usage!.PromptTokens, first.Usage.CompletionTokens), (miss.PromptTokens, miss.CompletionTokens));
        Assert.Equal((miss.Provider, miss.Model, miss.PromptTokens, 0m, miss.CostUsd), (hit.Provider, hit.Model, hit.PromptTokens, hit.CostUsd, hit.SavedUsd));
    }
}
