using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;

namespace Gatehouse.Health;

// The upstream's buckets: requests/minute, tokens/minute and the concurrency cap, shared by every silo and app.
// Reentrant so that a lease request queued for the next window never blocks health reports or other silos' calls.
// Never collected when idle: a fresh activation must sit out one window (see QuotaLedger), which should cost only
// when a silo dies, not after every quiet spell.
[Reentrant, CollectionAgeLimit(AlwaysActive = true)]
internal sealed partial class ProviderGrain
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
        var name = this.GetPrimaryKeyString();
        gatehouse.Providers.TryGetValue(name, out var provider);
        var scope = new QuotaScope(QuotaScopeKind.Provider, name, provider?.RequestsPerMinute, provider?.TokensPerMinute, provider?.MaxConcurrency);
        var callTimeout = TimeSpan.FromSeconds(provider?.TimeoutSeconds ?? 60);
        return new QuotaAuthorityHost(this, scope, gatehouse.RateLimits, callTimeout, ServiceProvider.GetRequiredService<TimeProvider>());
    }
}
