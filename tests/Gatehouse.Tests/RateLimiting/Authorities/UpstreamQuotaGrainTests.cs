using Gatehouse.Grains;
using Gatehouse.Tests.Cluster;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.RateLimiting.Authorities;

/// <summary>
/// The upstream's quota authority on two in-process silos sharing one grant-record store: the first request of a fresh
/// cluster is granted at once, and an activation that replaces a moved one resumes from the record.
/// </summary>
public sealed class UpstreamQuotaGrainTests : IAsyncLifetime
{
    private QuotaCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await QuotaCluster.StartAsync(silos: 2);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static LeaseRequest OneRequest(string holder) => new()
    {
        HolderId = holder,
        AppId = "alpha",
        RequestsNeeded = 1,
        RequestsWanted = 1,
        MaxWait = TimeSpan.Zero,
    };

    [Fact]
    public async Task AcquireLease_NoRecordYet_GrantsAtOnceAndWritesTheRecord()
    {
        // scarce: 60 a minute, a burst of 1.
        var authority = _cluster.Cluster.Client.GetGrain<IUpstreamQuotaGrain>(GrainKeys.UpstreamQuota("scarce"));

        var grant = await authority.AcquireLeaseAsync(OneRequest("silo-a")).Within("upstream authority scarce: first lease of a fresh cluster");

        Assert.True(grant.Granted);
        Assert.Equal(1, grant.Requests);
        Assert.Equal(1, _cluster.Storage.Writes);
    }

    [Fact]
    public async Task AcquireLease_AuthorityMovedAfterAGrant_ResumesFromItsRecordAndRefusesTheSpentUnit()
    {
        // stingy: 1 a minute, so a second grant within the minute would be an overrun.
        var authority = _cluster.Cluster.Client.GetGrain<IUpstreamQuotaGrain>(GrainKeys.UpstreamQuota("stingy"));
        var first = await authority.AcquireLeaseAsync(OneRequest("silo-a")).Within("upstream authority stingy: first lease");
        Assert.True(first.Granted);
        Assert.True(_cluster.Cluster.TryGetGrainContext(authority.GetGrainId(), out var before));
        var target = _cluster.Cluster.Silos.First(s => !s.SiloAddress.Equals(before!.Address.SiloAddress));

        // The grain keeps nothing across a migration but its record: the new activation must read it.
        await _cluster.Cluster.MigrateAsync(authority, target.SiloAddress).Within($"upstream authority stingy: move to {target.Name}");
        var second = await authority.AcquireLeaseAsync(OneRequest("silo-b")).Within("upstream authority stingy: lease after the move");

        Assert.True(_cluster.Cluster.TryGetGrainContext(authority.GetGrainId(), out var after));
        Assert.Equal(target.SiloAddress, after!.Address.SiloAddress);
        Assert.False(second.Granted);
        Assert.Equal((1, 0), (second.RequestsLimit, second.RequestsRemaining));
        // The spent unit counts until 60 s after the end of the slot it was granted in (at most 2 s after the grant).
        Assert.InRange(second.RetryAfter, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(62));
    }
}
