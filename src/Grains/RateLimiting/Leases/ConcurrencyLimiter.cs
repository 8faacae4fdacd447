using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Gatehouse.Grains;
using Microsoft.Extensions.Logging;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// This silo's concurrency slots, one pool per scope (the partition): a call takes a slot held here, or waits for one
/// released here or granted by the scope's authority.
/// </summary>
/// <remarks>
/// Thread-safe (a small lock per pool). Each pool has at most one slot request under way: callers that find no free
/// slot queue up and share it, so a saturated silo does not call the authority once per caller. Released slots and
/// the shared request's grant serve waiters highest priority first. Every request carries the calls in flight (the
/// authority never takes their slots away) and a sequence number; an answer older than one applied is ignored.
/// Slots other silos hold come back at their renewal.
/// </remarks>
public sealed partial class ConcurrencyLimiter : PartitionedRateLimiter<SlotDemand>
{
    /// <summary>A concurrency cap has no refill schedule: slots come back when calls end, typically well within a second.</summary>
    internal static readonly TimeSpan SlotRetryAfter = TimeSpan.FromSeconds(1);

    private readonly QuotaAuthorities _authorities;
    private readonly TimeProvider _timeProvider;
    private readonly RateLimitOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<QuotaScope, SlotPool> _pools = new();

    internal ConcurrencyLimiter(QuotaAuthorities authorities, TimeProvider timeProvider, RateLimitOptions options, ILogger logger)
    {
        _authorities = authorities;
        _timeProvider = timeProvider;
        _options = options;
        _logger = logger;
    }

    private TimeSpan SafetyMargin => TimeSpan.FromMilliseconds(_options.LeaseSafetyMarginMs);

    /// <summary>
    /// Takes a slot for the duration of one upstream call, waiting up to the demand's max-wait (with none, only for the
    /// answer of the slot request under way). Dispose the lease to release the slot.
    /// </summary>
    public ValueTask<SlotLease> AcquireAsync(SlotDemand demand, CancellationToken cancellationToken = default) =>
        AcquireSlotAsync(demand, cancellationToken);

    /// <summary>
    /// Renews the slots of pools whose lease is half used, and asks for more where callers wait and no request is under
    /// way; runs with every flush of the holder.
    /// </summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var renewAhead = (long)(_timeProvider.TimestampFrequency * _options.ConcurrencyLeaseSeconds / 2);
        foreach (var pool in _pools.Values)
        {
            SlotRequest request;
            TaskCompletionSource answered;
            lock (pool)
            {
                if (pool.Outstanding is not null
                    || (pool.Waiting == 0 && (pool.Held == 0 || _timeProvider.GetTimestamp() < pool.ExpiresAt - renewAhead)))
                {
                    continue;
                }

                // Keep what was in use at the peak since the last renewal (idle slots drift back to the authority),
                // plus a slot for everyone waiting here.
                request = pool.NextRequest(_authorities.HolderId, Math.Max(pool.InFlight, pool.PeakSinceRenewal) + pool.Waiting, pool.InFlight + pool.Waiting);
                pool.PeakSinceRenewal = pool.InFlight;
                answered = StartRequestLocked(pool);
            }

            await SendAsync(pool, request, answered, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gives every idle slot back to its authority, keeping those of calls still in flight.</summary>
    public async Task ReturnIdleAsync(CancellationToken cancellationToken)
    {
        foreach (var pool in _pools.Values)
        {
            SlotRequest request;
            TaskCompletionSource answered;
            lock (pool)
            {
                if (pool.Held == 0 || pool.Outstanding is not null)
                {
                    continue;
                }

                request = pool.NextRequest(_authorities.HolderId, pool.InFlight, pool.InFlight);
                answered = StartRequestLocked(pool);
            }

            await SendAsync(pool, request, answered, cancellationToken).ConfigureAwait(false);
        }
    }

    public override RateLimiterStatistics? GetStatistics(SlotDemand resource)
    {
        if (!_pools.TryGetValue(resource.Scope, out var pool))
        {
            return null;
        }

        lock (pool)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, pool.Held - pool.InFlight), CurrentQueuedCount = pool.Waiting };
        }
    }

    /// <summary>Takes a free slot held by this silo, never calling the authority.</summary>
    protected override RateLimitLease AttemptAcquireCore(SlotDemand resource, int permitCount)
    {
        if (resource.Scope.MaxConcurrency is null)
        {
            return SlotLease.Unlimited;
        }

        var pool = Pool(resource.Scope);
        lock (pool)
        {
            return new SlotLease(pool, pool.TryTake(), SlotRetryAfter);
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(SlotDemand resource, int permitCount, CancellationToken cancellationToken) =>
        await AcquireSlotAsync(resource, cancellationToken).ConfigureAwait(false);

    private SlotPool Pool(QuotaScope scope) => _pools.GetOrAdd(scope, static (s, time) => new SlotPool(s, time), _timeProvider);

    private async ValueTask<SlotLease> AcquireSlotAsync(SlotDemand demand, CancellationToken cancellationToken)
    {
        if (demand.Scope.MaxConcurrency is null)
        {
            return SlotLease.Unlimited;
        }

        var pool = Pool(demand.Scope);
        SlotPool.Waiter waiter;
        Task outstanding;
        SlotRequest? request = null;
        TaskCompletionSource? answered = null;
        lock (pool)
        {
            if (pool.TryTake())
            {
                return new SlotLease(pool, acquired: true, TimeSpan.Zero);
            }

            waiter = pool.Enqueue(demand.Priority);
            if (pool.Outstanding is null)
            {
                var needed = pool.InFlight + pool.Waiting;
                request = pool.NextRequest(_authorities.HolderId, needed + Math.Max(1, needed / 4), needed);
                answered = StartRequestLocked(pool);
            }

            outstanding = pool.Outstanding!;
        }

        if (request is not null)
        {
            // Shared by every waiter: one caller's cancellation must not cancel it.
            _ = SendAsync(pool, request, answered!, CancellationToken.None);
        }

        try
        {
            if (demand.MaxWait > TimeSpan.Zero)
            {
                await waiter.Served.WaitAsync(demand.MaxWait, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAny(waiter.Served, outstanding).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
            lock (pool)
            {
                if (!pool.Dequeue(waiter))
                {
                    // Handed a slot just as the caller gave up: give it to the next waiter rather than leak it.
                    pool.Release();
                }
            }

            throw;
        }

        lock (pool)
        {
            // Served (even just as the wait ended): the slot is this caller's.
            return pool.Dequeue(waiter)
                ? new SlotLease(pool, acquired: false, SlotRetryAfter)
                : new SlotLease(pool, acquired: true, TimeSpan.Zero);
        }
    }

    private static TaskCompletionSource StartRequestLocked(SlotPool pool)
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pool.Outstanding = answered.Task;
        return answered;
    }

    private async Task SendAsync(SlotPool pool, SlotRequest request, TaskCompletionSource answered, CancellationToken cancellationToken)
    {
        while (true)
        {
            var sent = _timeProvider.GetTimestamp();
            var again = false;
            try
            {
                _authorities.CountLeaseCall();
                var grant = await _authorities.LeaseSlotsAsync(pool.Scope, request, cancellationToken).ConfigureAwait(false);
                lock (pool)
                {
                    // Callers that queued after this request was sent were not in it: if it got all it asked for, ask
                    // for theirs at once rather than leave them to the next renewal.
                    if (pool.Apply(request, grant, sent, SafetyMargin) && grant.Held >= request.Needed && pool.Waiting > 0
                        && _timeProvider.GetTimestamp() < pool.ExpiresAt)
                    {
                        var needed = pool.InFlight + pool.Waiting;
                        request = pool.NextRequest(_authorities.HolderId, needed + Math.Max(1, needed / 4), needed);
                        again = true;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogSlotAuthorityFailed(pool.Scope.Name, ex.GetType().Name);
            }
            finally
            {
                if (!again)
                {
                    lock (pool)
                    {
                        if (ReferenceEquals(pool.Outstanding, answered.Task))
                        {
                            pool.Outstanding = null;
                        }
                    }

                    answered.TrySetResult();
                }
            }

            if (!again)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.QuotaSlotsFailed, Level = LogLevel.Warning, Message = "Quota authority {Scope} could not be reached for concurrency slots ({Error}); waiting callers are refused until it answers")]
    private partial void LogSlotAuthorityFailed(string scope, string error);
}
