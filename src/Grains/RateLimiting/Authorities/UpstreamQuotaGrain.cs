using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Gatehouse.RateLimiting.Authorities;

/// <summary>
/// The authority for one upstream's buckets (its provider's <c>RequestsPerMinute</c>, <c>TokensPerMinute</c>,
/// <c>Burst</c>) and its concurrency cap (<c>MaxConcurrency</c>), shared by every silo and every app.
/// </summary>
/// <remarks>
/// Reentrant: a lease request queued for the next slot does not block the calls behind it. Silos draw leases; nothing
/// here is per request. Its grant record is persisted (<see cref="GatehouseStorageNames.Quota"/>), so it may be
/// collected when idle and resumes from the record wherever it is activated next. The limits are the provider's as
/// configured when the activation was built.
/// </remarks>
[Reentrant]
internal sealed class UpstreamQuotaGrain(IOptions<GatehouseOptions> options, TimeProvider timeProvider, ILogger<UpstreamQuotaGrain> logger) : Grain, IUpstreamQuotaGrain
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
        // A slot held by a silo that stopped renewing counts until its lease ends plus the longest call it may have started.
        var callTimeout = TimeSpan.FromSeconds(provider?.TimeoutSeconds ?? 60);
        var storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GatehouseStorageNames.Quota);
        return new QuotaAuthorityHost(this, scope, provider?.Burst, gatehouse.RateLimits, callTimeout, storage, timeProvider, logger);
    }
}
