using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Gatehouse.RateLimiting;

/// <summary>The authority for one app's own quota (<c>Apps:&lt;id&gt;:RequestsPerMinute</c>, <c>TokensPerMinute</c>), shared by every silo.</summary>
/// <remarks>
/// Reentrant: a lease request queued for the next slot does not block the calls behind it. Silos draw leases; nothing
/// here is per request. Its grant record is persisted (<see cref="GatehouseStorageNames.Quota"/>), so it may be
/// collected when idle and resumes from the record wherever it is activated next.
/// </remarks>
[Reentrant]
internal sealed class AppQuotaGrain(IOptions<GatehouseOptions> options, TimeProvider timeProvider, ILogger<AppQuotaGrain> logger) : Grain, IAppQuotaGrain
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
        var appId = this.GetPrimaryKeyString();
        gatehouse.Apps.TryGetValue(appId, out var app);
        var scope = new QuotaScope(QuotaScopeKind.App, appId, app?.RequestsPerMinute, app?.TokensPerMinute);
        var storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GatehouseStorageNames.Quota);
        return new QuotaAuthorityHost(this, scope, app?.Burst, gatehouse.RateLimits, TimeSpan.Zero, storage, timeProvider, logger);
    }
}
