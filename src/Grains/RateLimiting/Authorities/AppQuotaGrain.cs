using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Gatehouse.RateLimiting.Authorities;

/// <summary>The authority for one app's own quota (its record's <c>RequestsPerMinute</c>, <c>TokensPerMinute</c>, <c>Burst</c>), shared by every silo.</summary>
/// <remarks>
/// Reentrant: a lease request queued for the next slot does not block the calls behind it. Silos draw leases; nothing
/// here is per request. Its grant record is persisted (<see cref="GatehouseStorageNames.Quota"/>), so it may be
/// collected when idle and resumes from the record wherever it is activated next. The limits come from this silo's
/// app snapshot; when the snapshot's limits differ from those the activation was built with (the admin API changed
/// them, or this silo had not yet loaded a new app), the activation retires after its current calls and the next one
/// resumes from the record with the new limits.
/// </remarks>
[Reentrant]
internal sealed class AppQuotaGrain(IOptions<GatehouseOptions> options, IAppLimitsSource apps, TimeProvider timeProvider, ILogger<AppQuotaGrain> logger) : Grain, IAppQuotaGrain
{
    private QuotaAuthorityHost? _quota;
    private (QuotaScope Scope, int? Burst) _limits;

    private QuotaAuthorityHost Quota
    {
        get
        {
            if (_quota is null)
            {
                _limits = CurrentLimits();
                _quota = CreateQuota(_limits.Scope, _limits.Burst);
            }
            else if (CurrentLimits() != _limits)
            {
                DeactivateOnIdle();
            }

            return _quota;
        }
    }

    public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) =>
        Quota.AcquireLeaseAsync(request, cancellationToken);

    public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) =>
        new(Quota.SettleAsync(settlement));

    public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
        Quota.LeaseSlotsAsync(request);

    private (QuotaScope, int?) CurrentLimits()
    {
        var appId = this.GetPrimaryKeyString();
        return apps.FindLimits(appId) is { } limits ? (limits.Quota, limits.Burst) : (new QuotaScope(QuotaScopeKind.App, appId, null, null), null);
    }

    private QuotaAuthorityHost CreateQuota(QuotaScope scope, int? burst)
    {
        var storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GatehouseStorageNames.Quota);
        return new QuotaAuthorityHost(this, scope, burst, options.Value.RateLimits, TimeSpan.Zero, storage, timeProvider, logger);
    }
}
