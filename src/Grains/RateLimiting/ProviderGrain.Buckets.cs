using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Gatehouse.Health;

// The upstream's buckets: requests/minute, tokens/minute and the concurrency cap, shared by every silo and app.
// Kept with the rest of rate limiting; the grain itself (health, circuit) lives in Health/.
// Reentrant so that a lease request queued for the next slot never blocks health reports or other silos' calls.
// The grant record is persisted (GatehouseStorageNames.Quota): an activation elsewhere resumes from it.
[Reentrant]
internal sealed partial class ProviderGrain
{
    private QuotaAuthorityHost? _quota;

    private QuotaAuthorityHost Quota => _quota ??= CreateQuota();

    public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) =>
        Quota.AcquireLeaseAsync(request, cancellationToken);

    public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) =>
        new(Quota.SettleAsync(settlement));

    public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
        Quota.LeaseSlotsAsync(request);

    private QuotaAuthorityHost CreateQuota()
    {
        var gatehouse = options.Value;
        var name = this.GetPrimaryKeyString();
        gatehouse.Providers.TryGetValue(name, out var provider);
        var scope = new QuotaScope(QuotaScopeKind.Provider, name, provider?.RequestsPerMinute, provider?.TokensPerMinute, provider?.MaxConcurrency);
        var callTimeout = TimeSpan.FromSeconds(provider?.TimeoutSeconds ?? 60);
        return new QuotaAuthorityHost(
            this, scope, provider?.Burst, gatehouse.RateLimits, callTimeout,
            ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GatehouseStorageNames.Quota),
            ServiceProvider.GetRequiredService<TimeProvider>(),
            ServiceProvider.GetRequiredService<ILogger<ProviderGrain>>());
    }
}
