using System.Collections.Concurrent;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatehouse.RateLimiting;

/// <summary>
/// One per silo: holds this silo's leases on every quota authority and admits calls from them locally, so an
/// authority grain is called only when a lease runs out (counted in <see cref="AuthorityCalls"/>).
/// </summary>
/// <remarks>
/// Thread-safe (a small lock per lease). A lease is usable until <c>send time + ValidFor − safety margin</c> by this
/// silo's own monotonic clock, where send time is taken before the lease request leaves: network delay can only
/// shorten a lease, never extend it past the authority's window. Unused units left at expiry are simply lost, so a
/// silo that dies holding a lease can never cause an overrun. Concurrent callers that find the lease empty share one
/// authority call when it was sent at their priority or higher. Settlements (usage the estimate missed, units handed
/// back) are sent in the background.
/// </remarks>
public sealed partial class QuotaLeaseHolder : BackgroundService
{
    /// <summary>How often settlements and concurrency renewals are sent. The default value is 250 ms.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan DemandPeriod = TimeSpan.FromSeconds(1);

    private readonly Func<QuotaScope, IQuotaAuthority> _authorityFor;
    private readonly TimeProvider _timeProvider;
    private readonly RateLimitOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<QuotaScope, Lease> _leases = new();
    private readonly ConcurrentDictionary<QuotaScope, SlotPool> _slots = new();
    private long _authorityCalls;
    private long _settlementCalls;

    public QuotaLeaseHolder(IGrainFactory grainFactory, TimeProvider timeProvider, IOptions<GatehouseOptions> options, ILogger<QuotaLeaseHolder> logger)
        : this(scope => scope.Kind == QuotaScopeKind.Provider
                ? grainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(scope.Name))
                : grainFactory.GetGrain<IAppQuotaGrain>(GrainKeys.AppQuota(scope.Name)),
            timeProvider, options.Value.RateLimits, logger)
    {
    }

    internal QuotaLeaseHolder(Func<QuotaScope, IQuotaAuthority> authorityFor, TimeProvider timeProvider, RateLimitOptions options, ILogger logger)
    {
        _authorityFor = authorityFor;
        _timeProvider = timeProvider;
        _options = options;
        _logger = logger;
    }

    /// <summary>This silo's holder id, as the authorities know it.</summary>
    public string HolderId { get; } = Guid.NewGuid().ToString("n");

    /// <summary>Lease requests sent to authority grains since start (the bench reports them per 1,000 requests).</summary>
    public long AuthorityCalls => Interlocked.Read(ref _authorityCalls);

    /// <summary>Settlement and concurrency-renewal calls sent since start.</summary>
    public long SettlementCalls => Interlocked.Read(ref _settlementCalls);

    private TimeSpan SafetyMargin => TimeSpan.FromMilliseconds(_options.LeaseSafetyMarginMs);

    /// <summary>Takes one request and <paramref name="tokens"/> tokens from the scope's buckets, waiting up to <paramref name="maxWait"/>.</summary>
    public async ValueTask<QuotaTicket> AcquireAsync(
        QuotaScope scope, int tokens, string appId, RequestPriority priority, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (!scope.HasRateLimits)
        {
            return QuotaTicket.Unlimited;
        }

        tokens = scope.TokensPerMinute is null ? 0 : tokens;
        var lease = _leases.GetOrAdd(scope, static s => new Lease(s));
        var started = _timeProvider.GetTimestamp();
        var waiting = false;
        var lateGrants = 0;
        try
        {
            while (true)
            {
                Task<LeaseGrant>? shared = null;
                int requestsWanted, tokensWanted, requestsWaiting, tokensWaiting;
                lock (lease)
                {
                    var now = _timeProvider.GetTimestamp();
                    if (!waiting)
                    {
                        lease.CountDemand(tokens, now, _timeProvider);
                        if (lease.TryTake(tokens, now))
                        {
                            return new QuotaTicket(lease, lease.Generation, tokens, admitted: true, TimeSpan.Zero);
                        }

                        // From here on this caller waits for capacity: counted so a contended grant covers every waiting caller.
                        waiting = true;
                        lease.WaitingRequests++;
                        lease.WaitingTokens += tokens;
                    }
                    else if (lease.TryTake(tokens, now))
                    {
                        return new QuotaTicket(lease, lease.Generation, tokens, admitted: true, TimeSpan.Zero);
                    }

                    if (lease.Refill is { } inFlight && lease.RefillPriority >= priority)
                    {
                        shared = inFlight;
                    }

                    (requestsWanted, tokensWanted) = lease.Wanted(tokens);
                    (requestsWaiting, tokensWaiting) = (lease.WaitingRequests, lease.WaitingTokens);
                }

                var remaining = maxWait - _timeProvider.GetElapsedTime(started);
                if (shared is not null)
                {
                    if (remaining <= TimeSpan.Zero)
                    {
                        return await RejectedAsync(shared, lease, tokens);
                    }

                    try
                    {
                        await shared.WaitAsync(remaining, _timeProvider, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                    }

                    continue;
                }

                if (lateGrants > 0 && remaining <= TimeSpan.Zero)
                {
                    return new QuotaTicket(lease, lease.Generation, tokens, admitted: false, SafetyMargin * 2);
                }

                lateGrants++;
                if (await RefillAsync(scope, lease, tokens, appId, priority, (requestsWanted, tokensWanted), (requestsWaiting, tokensWaiting), remaining, cancellationToken).ConfigureAwait(false) is { } ticket)
                {
                    return ticket;
                }
            }
        }
        finally
        {
            if (waiting)
            {
                lock (lease)
                {
                    lease.WaitingRequests--;
                    lease.WaitingTokens -= tokens;
                }
            }
        }
    }

    /// <summary>Settles a call's real token usage against its estimate: debits what was missed, credits what was not used.</summary>
    public void Reconcile(QuotaTicket ticket, int actualTokens)
    {
        if (ticket.Lease is not Lease lease || !ticket.Admitted || lease.Scope.TokensPerMinute is null)
        {
            return;
        }

        var difference = actualTokens - ticket.Tokens;
        if (difference == 0)
        {
            return;
        }

        lock (lease)
        {
            var now = _timeProvider.GetTimestamp();
            if (lease.Generation == ticket.Generation && now < lease.ExpiresAt)
            {
                // Same lease, same window: settle locally, no authority call.
                lease.Tokens -= difference;
                if (lease.Tokens < 0)
                {
                    lease.TokensOwed += -lease.Tokens;
                    lease.Tokens = 0;
                }
            }
            else if (difference > 0)
            {
                lease.TokensOwed += difference;
            }
            else
            {
                lease.AddReturn(ticket.Generation, 0, -difference);
            }
        }
    }

    /// <summary>The app's limits and what this silo knows is left of them; null when the scope has no rate limits.</summary>
    public RateLimitSnapshot? Snapshot(QuotaScope scope)
    {
        if (!scope.HasRateLimits)
        {
            return null;
        }

        if (!_leases.TryGetValue(scope, out var lease))
        {
            return new RateLimitSnapshot(scope.RequestsPerMinute, scope.RequestsPerMinute, scope.TokensPerMinute, scope.TokensPerMinute);
        }

        lock (lease)
        {
            var live = _timeProvider.GetTimestamp() < lease.ExpiresAt;
            return new RateLimitSnapshot(
                scope.RequestsPerMinute,
                scope.RequestsPerMinute is { } rl ? Math.Clamp((lease.AuthorityRequestsRemaining ?? rl) + (live ? lease.Requests : 0), 0, rl) : null,
                scope.TokensPerMinute,
                scope.TokensPerMinute is { } tl ? Math.Clamp((lease.AuthorityTokensRemaining ?? tl) + (live ? lease.Tokens : 0), 0, tl) : null);
        }
    }

    /// <summary>
    /// Takes a concurrency slot of the scope for the duration of one upstream call, waiting up to
    /// <paramref name="maxWait"/> for one to be released on this silo; null when none came. Dispose the result to release it.
    /// </summary>
    /// <remarks>
    /// Waiters are served highest priority first by calls ending on this silo, and by the background renewal, which
    /// asks the authority for more slots while anyone waits. Slots other silos hold come back at their renewal.
    /// </remarks>
    public async ValueTask<SlotTicket?> AcquireSlotAsync(QuotaScope scope, RequestPriority priority, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (scope.MaxConcurrency is null)
        {
            return SlotTicket.None;
        }

        var pool = _slots.GetOrAdd(scope, s => new SlotPool(s, _timeProvider));
        int needed, wanted;
        lock (pool)
        {
            if (pool.TryTake())
            {
                return new SlotTicket(pool);
            }

            needed = pool.InFlight + 1;
            wanted = needed + Math.Max(1, needed / 4);
        }

        await LeaseSlotsAsync(scope, pool, wanted, needed, cancellationToken).ConfigureAwait(false);
        SlotWaiter waiter;
        lock (pool)
        {
            if (pool.TryTake())
            {
                return new SlotTicket(pool);
            }

            if (maxWait <= TimeSpan.Zero)
            {
                return null;
            }

            waiter = pool.Enqueue(priority);
        }

        try
        {
            await waiter.Completion.Task.WaitAsync(maxWait, _timeProvider, cancellationToken).ConfigureAwait(false);
            return new SlotTicket(pool);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (pool)
            {
                if (!pool.Dequeue(waiter) && waiter.Completion.Task.IsCompletedSuccessfully)
                {
                    // Handed a slot just as the wait ended: give it to the next waiter rather than leak it.
                    pool.ReleaseLocked();
                }
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            return null;
        }
    }

    /// <summary>Sends pending settlements and renews concurrency leases; runs in the background every <see cref="FlushInterval"/>.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var (scope, lease) in _leases)
        {
            LeaseSettlement? settlement;
            lock (lease)
            {
                settlement = lease.TakeSettlement();
            }

            if (settlement is null)
            {
                continue;
            }

            try
            {
                Interlocked.Increment(ref _settlementCalls);
                await _authorityFor(scope).SettleAsync(settlement, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                lock (lease)
                {
                    lease.TokensOwed += settlement.TokensOwed;
                }

                LogSettleFailed(scope.Name, ex.GetType().Name);
            }
        }

        foreach (var (scope, pool) in _slots)
        {
            int wanted, needed;
            lock (pool)
            {
                var renewAt = pool.ExpiresAt - _timeProvider.TimestampFrequency * (long)(_options.ConcurrencyLeaseSeconds / 2);
                if (pool.Waiting == 0 && (pool.Held == 0 || _timeProvider.GetTimestamp() < renewAt))
                {
                    continue;
                }

                // Keep what was in use at the peak since the last renewal (idle slots drift back to the authority),
                // plus a slot for everyone waiting here.
                needed = pool.InFlight;
                wanted = Math.Max(pool.InFlight, pool.PeakSinceRenewal) + pool.Waiting;
                pool.PeakSinceRenewal = pool.InFlight;
            }

            await LeaseSlotsAsync(scope, pool, wanted, needed, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Hands every unused unit back (credited where its window is still current) and gives up all idle slots.</summary>
    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        foreach (var lease in _leases.Values)
        {
            lock (lease)
            {
                if (_timeProvider.GetTimestamp() < lease.ExpiresAt)
                {
                    lease.AddReturn(lease.Generation, lease.Requests, lease.Tokens);
                }

                lease.Requests = 0;
                lease.Tokens = 0;
                lease.ExpiresAt = 0;
            }
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
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
            LogSettleFailed("(all)", ex.GetType().Name);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Asks the authority for a batch; null when the grant came too late to use (handed back; the caller tries again).</summary>
    private async Task<QuotaTicket?> RefillAsync(
        QuotaScope scope, Lease lease, int tokens, string appId, RequestPriority priority,
        (int Requests, int Tokens) wanted, (int Requests, int Tokens) waiting, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        maxWait = maxWait < TimeSpan.Zero ? TimeSpan.Zero : maxWait;
        var request = new LeaseRequest
        {
            HolderId = HolderId,
            AppId = appId,
            Priority = priority,
            RequestsNeeded = scope.RequestsPerMinute is null ? 0 : 1,
            TokensNeeded = tokens,
            RequestsWanted = scope.RequestsPerMinute is null ? 0 : wanted.Requests,
            TokensWanted = scope.TokensPerMinute is null ? 0 : wanted.Tokens,
            RequestsWaiting = scope.RequestsPerMinute is null ? 0 : Math.Max(1, waiting.Requests),
            TokensWaiting = scope.TokensPerMinute is null ? 0 : Math.Max(tokens, waiting.Tokens),
            MaxWait = maxWait,
            MinValidity = SafetyMargin * 2,
        };

        // Taken before the request leaves: the lease's expiry is measured from here, so transit time only shortens it.
        var sent = _timeProvider.GetTimestamp();
        Interlocked.Increment(ref _authorityCalls);
        var call = _authorityFor(scope).AcquireLeaseAsync(request, cancellationToken);
        lock (lease)
        {
            if (lease.Refill is null || lease.RefillPriority < priority)
            {
                lease.Refill = call;
                lease.RefillPriority = priority;
            }
        }

        LeaseGrant grant;
        try
        {
            // The authority answers by the deadline itself; the extra second only guards against a lost answer.
            grant = await call.WaitAsync(maxWait + TimeSpan.FromSeconds(1), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Fail closed: without the authority's word nothing may be admitted.
            LogAuthorityFailed(scope.Name, ex.GetType().Name);
            grant = new LeaseGrant { Granted = false, RetryAfter = TimeSpan.FromSeconds(1) };
        }
        finally
        {
            lock (lease)
            {
                if (ReferenceEquals(lease.Refill, call))
                {
                    lease.Refill = null;
                }
            }
        }

        lock (lease)
        {
            lease.AuthorityRequestsRemaining = grant.RequestsRemaining ?? lease.AuthorityRequestsRemaining;
            lease.AuthorityTokensRemaining = grant.TokensRemaining ?? lease.AuthorityTokensRemaining;
            if (!grant.Granted)
            {
                return new QuotaTicket(lease, lease.Generation, tokens, admitted: false, grant.RetryAfter);
            }

            var now = _timeProvider.GetTimestamp();
            if (now < lease.ExpiresAt && (lease.Requests > 0 || lease.Tokens > 0))
            {
                // The old batch may belong to an earlier window: hand it back rather than stretch it to the new expiry.
                lease.AddReturn(lease.Generation, lease.Requests, lease.Tokens);
            }

            // The grant happened no earlier than send time + queueing time at the authority; transit only shortens the lease.
            var expiresAt = sent + (long)((grant.Queued + grant.ValidFor - SafetyMargin).TotalSeconds * _timeProvider.TimestampFrequency);
            if (now >= expiresAt)
            {
                // Answered after the window's usable part (a slow network or a loaded silo): using it could overrun the window.
                lease.AddReturn(grant.GrantedAtTicks, grant.Requests, grant.Tokens);
                return null;
            }

            lease.Generation = grant.GrantedAtTicks;
            lease.ExpiresAt = expiresAt;
            lease.Requests = grant.Requests - request.RequestsNeeded;
            lease.Tokens = grant.Tokens - request.TokensNeeded;
            return new QuotaTicket(lease, lease.Generation, tokens, admitted: true, TimeSpan.Zero);
        }
    }

    private static async Task<QuotaTicket> RejectedAsync(Task<LeaseGrant> shared, Lease lease, int tokens)
    {
        var retryAfter = TimeSpan.FromMilliseconds(100);
        if (shared.IsCompletedSuccessfully)
        {
            retryAfter = (await shared.ConfigureAwait(false)).RetryAfter;
        }

        return new QuotaTicket(lease, lease.Generation, tokens, admitted: false, retryAfter);
    }

    private async Task<SlotGrant?> LeaseSlotsAsync(QuotaScope scope, SlotPool pool, int wanted, int needed, CancellationToken cancellationToken)
    {
        var sent = _timeProvider.GetTimestamp();
        try
        {
            Interlocked.Increment(ref _authorityCalls);
            var grant = await _authorityFor(scope)
                .LeaseSlotsAsync(new SlotRequest { HolderId = HolderId, Wanted = wanted, Needed = needed }, cancellationToken)
                .ConfigureAwait(false);
            lock (pool)
            {
                pool.Held = grant.Held;
                pool.ExpiresAt = sent + (long)((grant.ValidFor - SafetyMargin).TotalSeconds * _timeProvider.TimestampFrequency);
                pool.ServeWaiters();
            }

            return grant;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAuthorityFailed(scope.Name, ex.GetType().Name);
            return null;
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.QuotaAuthorityFailed, Level = LogLevel.Warning, Message = "Quota authority {Scope} could not be reached ({Error}); refusing until it answers")]
    private partial void LogAuthorityFailed(string scope, string error);

    [LoggerMessage(EventId = GatehouseEventIds.QuotaSettleFailed, Level = LogLevel.Debug, Message = "Could not settle quota usage with {Scope} ({Error}); will retry")]
    private partial void LogSettleFailed(string scope, string error);

    /// <summary>This silo's lease on one scope. Guarded by locking the instance.</summary>
    private sealed class Lease(QuotaScope scope)
    {
        public QuotaScope Scope { get; } = scope;
        public long Generation;
        public long ExpiresAt;
        public int Requests;
        public int Tokens;
        public int? AuthorityRequestsRemaining;
        public int? AuthorityTokensRemaining;
        public Task<LeaseGrant>? Refill;
        public RequestPriority RefillPriority;
        public int TokensOwed;
        public int WaitingRequests;
        public int WaitingTokens;
        private long _returnGeneration;
        private int _returnRequests;
        private int _returnTokens;
        private long _demandPeriodStart;
        private int _demandRequests;
        private int _demandTokens;
        private int _previousDemandRequests;
        private int _previousDemandTokens;

        public bool TryTake(int tokens, long now)
        {
            if (now >= ExpiresAt
                || (Scope.RequestsPerMinute is not null && Requests < 1)
                || (Scope.TokensPerMinute is not null && Tokens < tokens))
            {
                return false;
            }

            Requests -= Scope.RequestsPerMinute is null ? 0 : 1;
            Tokens -= tokens;
            return true;
        }

        public void CountDemand(int tokens, long now, TimeProvider time)
        {
            var elapsed = time.GetElapsedTime(_demandPeriodStart, now);
            if (elapsed >= DemandPeriod)
            {
                var onlyOnePeriod = elapsed < DemandPeriod * 2;
                _previousDemandRequests = onlyOnePeriod ? _demandRequests : 0;
                _previousDemandTokens = onlyOnePeriod ? _demandTokens : 0;
                _demandRequests = 0;
                _demandTokens = 0;
                _demandPeriodStart = now;
            }

            _demandRequests++;
            _demandTokens += tokens;
        }

        /// <summary>The batch to ask for: this silo's demand over the last period (the authority caps it).</summary>
        public (int Requests, int Tokens) Wanted(int tokens) =>
            (Math.Max(1, Math.Max(_previousDemandRequests, _demandRequests)), Math.Max(tokens, Math.Max(_previousDemandTokens, _demandTokens)));

        public void AddReturn(long generation, int requests, int tokens)
        {
            if (generation != _returnGeneration)
            {
                // Units of an older grant are stale by now: its window has passed, so they would not be credited anyway.
                _returnGeneration = generation;
                _returnRequests = 0;
                _returnTokens = 0;
            }

            _returnRequests += requests;
            _returnTokens += tokens;
        }

        public LeaseSettlement? TakeSettlement()
        {
            if (TokensOwed == 0 && _returnRequests == 0 && _returnTokens == 0)
            {
                return null;
            }

            var settlement = new LeaseSettlement
            {
                GrantedAtTicks = _returnGeneration,
                RequestsReturned = _returnRequests,
                TokensReturned = _returnTokens,
                TokensOwed = TokensOwed,
            };
            TokensOwed = 0;
            _returnRequests = 0;
            _returnTokens = 0;
            return settlement;
        }
    }

    /// <summary>This silo's concurrency slots on one scope and the callers waiting for one. Guarded by locking the instance.</summary>
    internal sealed class SlotPool(QuotaScope scope, TimeProvider timeProvider)
    {
        private readonly PriorityQueue<SlotWaiter, (int, long)> _waiters = new();
        private long _sequence;

        public QuotaScope Scope { get; } = scope;
        public int Held;
        public int InFlight;
        public int PeakSinceRenewal;
        public long ExpiresAt;
        public int Waiting;

        public bool TryTake()
        {
            if (timeProvider.GetTimestamp() >= ExpiresAt || InFlight >= Held)
            {
                return false;
            }

            InFlight++;
            PeakSinceRenewal = Math.Max(PeakSinceRenewal, InFlight);
            return true;
        }

        public SlotWaiter Enqueue(RequestPriority priority)
        {
            var waiter = new SlotWaiter();
            // Highest priority first, then first come first served.
            _waiters.Enqueue(waiter, (-(int)priority, _sequence++));
            Waiting++;
            return waiter;
        }

        /// <summary>Removes a waiter that gave up; false if it was already served.</summary>
        public bool Dequeue(SlotWaiter waiter)
        {
            if (!_waiters.Remove(waiter, out _, out _))
            {
                return false;
            }

            Waiting--;
            return true;
        }

        public void Release()
        {
            lock (this)
            {
                ReleaseLocked();
            }
        }

        public void ReleaseLocked()
        {
            InFlight--;
            ServeWaiters();
        }

        public void ServeWaiters()
        {
            while (Waiting > 0 && TryTake())
            {
                var waiter = _waiters.Dequeue();
                Waiting--;
                waiter.Completion.TrySetResult();
            }
        }
    }

    internal sealed class SlotWaiter
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A concurrency slot held for one upstream call; disposing it releases the slot to this silo's pool.</summary>
public sealed class SlotTicket : IDisposable
{
    internal static readonly SlotTicket None = new(null);

    private QuotaLeaseHolder.SlotPool? _pool;

    internal SlotTicket(QuotaLeaseHolder.SlotPool? pool) => _pool = pool;

    public void Dispose() => Interlocked.Exchange(ref _pool, null)?.Release();
}
