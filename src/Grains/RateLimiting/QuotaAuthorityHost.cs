using Gatehouse.Grains;

namespace Gatehouse.RateLimiting;

/// <summary>
/// The grain side of an authority: a <see cref="QuotaLedger"/> and a <see cref="SlotLedger"/> plus the one grain
/// timer that serves queued waiters when the next window starts or a deadline passes.
/// </summary>
/// <remarks>
/// Used by <c>ProviderGrain</c> and <c>AppQuotaGrain</c>, which must be <c>[Reentrant]</c> so a queued lease request
/// does not block the calls that follow it. All members run on the grain's scheduler.
/// </remarks>
internal sealed class QuotaAuthorityHost(Grain grain, QuotaScope scope, RateLimitOptions options, TimeSpan callTimeout, TimeProvider timeProvider)
{
    private readonly QuotaLedger _ledger = new(scope.RequestsPerMinute, scope.TokensPerMinute, options.MaxBatchShare, timeProvider.GetUtcNow() + Blackout(scope));
    private readonly SlotLedger _slots = new(scope.MaxConcurrency, TimeSpan.FromSeconds(options.ConcurrencyLeaseSeconds), callTimeout);
    private IGrainTimer? _timer;
    private DateTimeOffset? _timerDue;

    public async Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var grant = _ledger.Acquire(request, timeProvider.GetUtcNow(), out var waiter);
        if (grant is not null)
        {
            return grant;
        }

        Schedule();
        try
        {
            return await waiter!.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _ledger.Remove(waiter!);
            throw;
        }
    }

    public void Settle(LeaseSettlement settlement)
    {
        var now = timeProvider.GetUtcNow();
        _ledger.Settle(settlement, now);
        // Credited units may let a waiter through before the next window.
        _ledger.Pump(now);
    }

    public SlotGrant LeaseSlots(SlotRequest request) => _slots.Lease(request, timeProvider.GetUtcNow());

    private static TimeSpan Blackout(QuotaScope scope)
    {
        var longest = TimeSpan.Zero;
        foreach (var limit in new[] { scope.RequestsPerMinute, scope.TokensPerMinute })
        {
            if (limit is { } l && new WindowSchedule(l).MaxWindowLength is var length && length > longest)
            {
                longest = length;
            }
        }

        return longest;
    }

    private void Schedule()
    {
        var now = timeProvider.GetUtcNow();
        if (_ledger.NextWakeUp(now) is not { } wake || (_timerDue is { } due && due <= wake))
        {
            return;
        }

        _timerDue = wake;
        var dueTime = wake > now ? wake - now : TimeSpan.Zero;
        if (_timer is null)
        {
            _timer = grain.RegisterGrainTimer(OnTimer, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
        else
        {
            _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private Task OnTimer(CancellationToken cancellationToken)
    {
        _timerDue = null;
        _ledger.Pump(timeProvider.GetUtcNow());
        Schedule();
        return Task.CompletedTask;
    }
}
