using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Gatehouse.RateLimiting;

/// <summary>The authority for one app's own quota (<c>Apps:&lt;id&gt;:RequestsPerMinute</c>, <c>TokensPerMinute</c>), shared by every silo.</summary>
/// <remarks>Reentrant: a lease request queued for the next window does not block the calls behind it. Silos draw leases; nothing here is per request.</remarks>
// Never collected when idle: a fresh activation must sit out one window (see QuotaLedger), which should cost only when a silo dies.
[Reentrant, CollectionAgeLimit(AlwaysActive = true)]
internal sealed class AppQuotaGrain(IOptions<GatehouseOptions> options, TimeProvider timeProvider) : Grain, IAppQuotaGrain
{
    private QuotaAuthorityHost? _quota;

    private QuotaAuthorityHost Quota => _quota ??= CreateQuota();

    public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) =>
        Quota.AcquireLeaseAsync(request, cancellationToken);

    public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default)
    {
        Quota.Settle(settlement);
        return ValueTask.CompletedTask;
    }

    public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(Quota.LeaseSlots(request));

    private QuotaAuthorityHost CreateQuota()
    {
        var gatehouse = options.Value;
        var appId = this.GetPrimaryKeyString();
        gatehouse.Apps.TryGetValue(appId, out var app);
        var scope = new QuotaScope(QuotaScopeKind.App, appId, app?.RequestsPerMinute, app?.TokensPerMinute);
        return new QuotaAuthorityHost(this, scope, gatehouse.RateLimits, TimeSpan.Zero, timeProvider);
    }
}
