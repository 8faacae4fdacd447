using System.Collections.Concurrent;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Budgets;

/// <summary>
/// One per silo: holds this silo's money for every app with a budget (a <see cref="BudgetPool"/> each), so an app's
/// <see cref="IBudgetGrain"/> is called only when a pool runs short (counted in <see cref="AuthorityCalls"/>); in the
/// background it settles what calls cost, gives back idle money, and tells the authorities it is alive.
/// </summary>
/// <remarks>
/// Thread-safe. Pools of apps not used for <see cref="PoolIdleLifetime"/> that hold nothing are dropped, so the map is
/// bounded by the apps in use. A silo that dies holding money cannot cause an overspend: the authority charged it when
/// granting, and charges it as spent once the holder has been silent for <see cref="BudgetLedger.HolderExpiry"/>.
/// </remarks>
public sealed partial class BudgetLeaseHolder : BackgroundService
{
    /// <summary>How often settlements are sent. Spend reported by the authority lags calls by about this much.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Money not reserved for this long goes back to the authority, so another silo can use it.</summary>
    public static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(2);

    /// <summary>While it holds money, the holder contacts the authority at least this often (well inside the authority's expiry).</summary>
    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(30);

    /// <summary>A refusal is repeated locally for this long before the authority is asked again (a raised budget, money given back).</summary>
    public static readonly TimeSpan RefusalRecheck = TimeSpan.FromSeconds(1);

    /// <summary>A grant covers the caller and about this much of the silo's recent demand.</summary>
    public static readonly TimeSpan DemandAhead = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan PoolIdleLifetime = TimeSpan.FromMinutes(1);

    /// <summary>The least a grant is asked for (one micro-dollar), so a call priced at 0 still needs money left.</summary>
    public const decimal SmallestGrant = 0.000001m;

    private readonly ConcurrentDictionary<string, BudgetPool> _pools = new(StringComparer.Ordinal);
    private readonly Func<string, IBudgetGrain> _authorityFor;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _authorityCalls;

    public BudgetLeaseHolder(IGrainFactory grainFactory, TimeProvider timeProvider, ILogger<BudgetLeaseHolder> logger)
        : this(appId => grainFactory.GetGrain<IBudgetGrain>(GrainKeys.Budget(appId)), timeProvider, logger)
    {
    }

    internal BudgetLeaseHolder(Func<string, IBudgetGrain> authorityFor, TimeProvider timeProvider, ILogger logger)
    {
        _authorityFor = authorityFor;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>This silo's holder id, as the authorities know it.</summary>
    public string HolderId { get; } = Guid.NewGuid().ToString("n");

    /// <summary>Grant requests sent to budget authorities since start (settlements not counted).</summary>
    public long AuthorityCalls => Interlocked.Read(ref _authorityCalls);

    /// <summary>
    /// Reserves <paramref name="estimate"/> USD of the app's budget, asking its authority when this silo's pool is short;
    /// throws a <see cref="GatewayError.BudgetExhausted"/> <see cref="GatewayException"/> when the budget is spent.
    /// </summary>
    public async ValueTask<BudgetReservation> ReserveAsync(string appId, decimal estimate, CancellationToken cancellationToken)
    {
        while (true)
        {
            var pool = _pools.GetOrAdd(appId, id => new BudgetPool(id));
            var now = _timeProvider.GetUtcNow();
            if (!pool.TryReserve(estimate, now, out var reservation))
            {
                continue;
            }

            if (reservation is not null)
            {
                return reservation;
            }

            if (pool.CurrentRefusal(now) is { } refusal)
            {
                throw Exhausted(appId, refusal);
            }

            var (answer, send) = pool.JoinOrBeginFetch(estimate, HolderId, DemandAhead);
            if (send is not null)
            {
                Interlocked.Increment(ref _authorityCalls);
                _ = SendAsync(pool, send);
            }

            var grant = await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!grant.Granted && grant.Period is not null)
            {
                throw Exhausted(appId, grant);
            }
        }
    }

    /// <summary>Settles a reservation with what the call cost (0 for an answer from the cache or a failed call).</summary>
    public void Settle(BudgetReservation reservation, decimal cost)
    {
        if (reservation.AppId is { } appId && _pools.TryGetValue(appId, out var pool))
        {
            pool.Settle(reservation, cost);
        }
    }

    /// <summary>
    /// Sends every pool's pending settlements and idle money; runs in the background every <see cref="FlushInterval"/>.
    /// Flushes run one at a time, so when this returns, everything settled before the call has reached the authorities
    /// (or failed and is kept for the next flush).
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _timeProvider.GetUtcNow();
            foreach (var pool in _pools.Values)
            {
                if (pool.Flush(HolderId, now, IdleRelease, RenewInterval) is { } request)
                {
                    await SettleAsync(pool, request).WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (pool.TryRetire(now, PoolIdleLifetime))
                {
                    _pools.TryRemove(new KeyValuePair<string, BudgetPool>(pool.AppId, pool));
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var pool in _pools.Values)
        {
            pool.ReleaseAll();
        }

        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogSettleFailed("(stop)", ex.GetType().Name);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(FlushInterval, _timeProvider, FlushAsync, stoppingToken);

    private async Task SendAsync(BudgetPool pool, BudgetLeaseRequest request)
    {
        try
        {
            var grant = await _authorityFor(pool.AppId).LeaseAsync(request).ConfigureAwait(false);
            pool.EndFetch(request, grant, null, _timeProvider.GetUtcNow(), RefusalRecheck);
        }
        catch (Exception ex)
        {
            LogAuthorityFailed(pool.AppId, ex.GetType().Name);
            pool.EndFetch(request, null, Unreachable(pool.AppId, ex), _timeProvider.GetUtcNow(), RefusalRecheck);
        }
    }

    private async Task SettleAsync(BudgetPool pool, BudgetLeaseRequest request)
    {
        try
        {
            await _authorityFor(pool.AppId).LeaseAsync(request).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Kept for the next flush: spend is never dropped, at worst counted late.
            LogSettleFailed(pool.AppId, ex.GetType().Name);
            pool.Restore(request.Settlements);
        }
    }

    private static GatewayException Unreachable(string appId, Exception error) => error as GatewayException
        ?? new GatewayException(GatewayError.NoTargetAvailable, $"The budget of app '{appId}' could not be checked; try again shortly.", retryAfter: RefusalRecheck);

    private GatewayException Exhausted(string appId, BudgetLeaseGrant refusal) => new(
        GatewayError.BudgetExhausted,
        $"App '{appId}' has spent its budget of ${refusal.BudgetUsd.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)} per {refusal.Period}; it resets at {refusal.ResetsAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}.",
        retryAfter: refusal.ResetsAt - _timeProvider.GetUtcNow() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);

    [LoggerMessage(EventId = GatehouseEventIds.BudgetAuthorityFailed, Level = LogLevel.Warning, Message = "The budget authority of app {AppId} did not answer a grant request ({Error})")]
    private partial void LogAuthorityFailed(string appId, string error);

    [LoggerMessage(EventId = GatehouseEventIds.BudgetSettleFailed, Level = LogLevel.Warning, Message = "Settling with the budget authority of app {AppId} failed ({Error}); it is sent again at the next flush")]
    private partial void LogSettleFailed(string appId, string error);
}
