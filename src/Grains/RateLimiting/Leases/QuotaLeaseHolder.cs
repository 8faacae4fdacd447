using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// One per silo: holds this silo's leases on every quota authority — requests and tokens in <see cref="Rates"/>,
/// concurrency slots in <see cref="Slots"/> — so an authority grain is called only when a lease runs out (counted in
/// <see cref="AuthorityCalls"/>); in the background it sends settlements and renews slots.
/// </summary>
/// <remarks>Thread-safe. A silo that dies holding leases can never cause an overrun: its units lapse with their slot.</remarks>
public sealed partial class QuotaLeaseHolder : BackgroundService
{
    /// <summary>How often settlements and concurrency renewals are sent. The default value is 250 ms.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    private readonly QuotaAuthorities _authorities;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public QuotaLeaseHolder(IGrainFactory grainFactory, TimeProvider timeProvider, IOptions<GatehouseOptions> options, ILogger<QuotaLeaseHolder> logger)
        : this(scope => scope.Kind == QuotaScopeKind.Provider
                ? grainFactory.GetGrain<IUpstreamQuotaGrain>(GrainKeys.UpstreamQuota(scope.Name))
                : grainFactory.GetGrain<IAppQuotaGrain>(GrainKeys.AppQuota(scope.Name)),
            timeProvider, options.Value.RateLimits, logger)
    {
    }

    internal QuotaLeaseHolder(Func<QuotaScope, IQuotaAuthority> authorityFor, TimeProvider timeProvider, RateLimitOptions options, ILogger logger)
    {
        _authorities = new QuotaAuthorities(authorityFor, timeProvider);
        _timeProvider = timeProvider;
        _logger = logger;
        Rates = new QuotaRateLimiter(_authorities, timeProvider, options, logger);
        Slots = new ConcurrencyLimiter(_authorities, timeProvider, options, logger);
    }

    /// <summary>This silo's holder id, as the authorities know it.</summary>
    public string HolderId => _authorities.HolderId;

    /// <summary>Lease and slot requests sent to authority grains since start (the bench reports them per 1,000 requests).</summary>
    public long AuthorityCalls => _authorities.LeaseCalls;

    /// <summary>Settlement calls sent since start.</summary>
    public long SettlementCalls => _authorities.SettlementCalls;

    /// <summary>This silo's requests and tokens leases.</summary>
    public QuotaRateLimiter Rates { get; }

    /// <summary>This silo's concurrency slots.</summary>
    public ConcurrencyLimiter Slots { get; }

    /// <summary>Sends pending settlements and renews concurrency slots; runs in the background every <see cref="FlushInterval"/>.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await Rates.SettleAsync(cancellationToken).ConfigureAwait(false);
        await Slots.RenewAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hands every unused unit back and gives up all idle slots.</summary>
    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        Rates.ReturnUnused();
        await Rates.SettleAsync(cancellationToken).ConfigureAwait(false);
        await Slots.ReturnIdleAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReturnAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogReturnFailed(ex.GetType().Name);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(FlushInterval, _timeProvider, FlushAsync, stoppingToken);

    [LoggerMessage(EventId = GatehouseEventIds.QuotaReturnFailed, Level = LogLevel.Debug, Message = "Could not hand leases back to the quota authorities on stop ({Error})")]
    private partial void LogReturnFailed(string error);
}
