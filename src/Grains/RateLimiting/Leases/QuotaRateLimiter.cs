using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Gatehouse.Grains;
using Microsoft.Extensions.Logging;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// This silo's requests and tokens leases, one per scope (the partition): admits calls from the lease locally and
/// asks the scope's authority for a batch only when the lease runs out.
/// </summary>
/// <remarks>
/// Thread-safe (a small lock per lease). A lease is usable until <c>send time + queued + ValidFor − safety margin</c>
/// by this silo's own monotonic clock, where send time is taken before the lease request leaves: network delay can
/// only shorten a lease, never extend it past the authority's slot. Units left when a lease expires or is replaced
/// are handed back at the next settlement (the authority credits them to the slot they were granted in). Concurrent
/// callers that find the lease empty share one authority call when it was sent at their priority or higher.
/// </remarks>
public sealed partial class QuotaRateLimiter : PartitionedRateLimiter<QuotaDemand>
{
    private readonly QuotaAuthorities _authorities;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _safetyMargin;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<QuotaScope, RateLease> _leases = new();

    internal QuotaRateLimiter(QuotaAuthorities authorities, TimeProvider timeProvider, RateLimitOptions options, ILogger logger)
    {
        _authorities = authorities;
        _timeProvider = timeProvider;
        _safetyMargin = TimeSpan.FromMilliseconds(options.LeaseSafetyMarginMs);
        _logger = logger;
    }

    /// <summary>Takes one request and the demand's tokens from the scope's buckets, waiting up to its max-wait.</summary>
    public ValueTask<QuotaLease> AcquireAsync(QuotaDemand demand, CancellationToken cancellationToken = default) =>
        AcquireLeaseAsync(demand, cancellationToken);

    /// <summary>Settles a call's real token usage against its estimate: debits what was missed, credits what was not used.</summary>
    public void Reconcile(QuotaLease admission, int actualTokens)
    {
        if (admission.Lease is not { } lease || !admission.IsAcquired || lease.Scope.TokensPerMinute is null)
        {
            return;
        }

        var difference = actualTokens - admission.Tokens;
        if (difference == 0)
        {
            return;
        }

        lock (lease)
        {
            var now = _timeProvider.GetTimestamp();
            if (lease.Generation == admission.Generation && now < lease.ExpiresAt)
            {
                // Same lease, same slot: settle locally, no authority call.
                lease.Tokens -= difference;
                if (lease.Tokens < 0)
                {
                    lease.Pending.Owe(-lease.Tokens);
                    lease.Tokens = 0;
                }
            }
            else if (difference > 0)
            {
                lease.Pending.Owe(difference);
            }
            else
            {
                lease.Pending.AddReturn(admission.Generation, 0, -difference);
            }
        }
    }

    /// <summary>The scope's limits and what this silo knows is left of them; null when the scope has no rate limits.</summary>
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

    /// <summary>Sends what each lease owes or hands back, including the units left in leases that have expired.</summary>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        foreach (var (scope, lease) in _leases)
        {
            List<LeaseSettlement> settlements;
            lock (lease)
            {
                if (_timeProvider.GetTimestamp() >= lease.ExpiresAt)
                {
                    lease.ReturnLeftover();
                }

                if (lease.Pending.IsEmpty)
                {
                    continue;
                }

                settlements = lease.Pending.Take();
            }

            foreach (var settlement in settlements)
            {
                try
                {
                    _authorities.CountSettlement();
                    await _authorities.For(scope).SettleAsync(settlement, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Owed tokens must reach the authority; returned units may be dropped (that only under-admits).
                    lock (lease)
                    {
                        lease.Pending.Owe(settlement.TokensOwed);
                    }

                    LogSettleFailed(scope.Name, ex.GetType().Name);
                }
            }
        }
    }

    /// <summary>Stops using every lease and queues its unused units to be handed back at the next settlement.</summary>
    public void ReturnUnused()
    {
        foreach (var lease in _leases.Values)
        {
            lock (lease)
            {
                lease.ReturnLeftover();
                lease.ExpiresAt = 0;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics(QuotaDemand resource)
    {
        if (!_leases.TryGetValue(resource.Scope, out var lease))
        {
            return null;
        }

        lock (lease)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = _timeProvider.GetTimestamp() < lease.ExpiresAt ? lease.Requests : 0,
                CurrentQueuedCount = lease.WaitingRequests,
            };
        }
    }

    /// <summary>Admits from this silo's lease only, never calling the authority.</summary>
    protected override RateLimitLease AttemptAcquireCore(QuotaDemand resource, int permitCount)
    {
        if (!resource.Scope.HasRateLimits)
        {
            return QuotaLease.Unlimited;
        }

        var tokens = resource.Scope.TokensPerMinute is null ? 0 : resource.Tokens;
        var lease = _leases.GetOrAdd(resource.Scope, static s => new RateLease(s));
        lock (lease)
        {
            var now = _timeProvider.GetTimestamp();
            lease.CountDemand(tokens, now, _timeProvider);
            return lease.TryTake(tokens, now)
                ? new QuotaLease(lease, lease.Generation, tokens, acquired: true, TimeSpan.Zero)
                : new QuotaLease(lease, lease.Generation, tokens, acquired: false, _safetyMargin * 2);
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(QuotaDemand resource, int permitCount, CancellationToken cancellationToken) =>
        await AcquireLeaseAsync(resource, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Authority answers a caller may still wait for once its max-wait has passed: max-wait bounds the wait for
    /// capacity, not the round trip that asks for it, so even a caller with no wait at all hears from the authority
    /// (its own request, or one it shares that was sent before it was counted, then the one that counts it).
    /// </summary>
    private const int RoundsPastDeadline = 3;

    private async ValueTask<QuotaLease> AcquireLeaseAsync(QuotaDemand demand, CancellationToken cancellationToken)
    {
        var scope = demand.Scope;
        if (!scope.HasRateLimits)
        {
            return QuotaLease.Unlimited;
        }

        var tokens = scope.TokensPerMinute is null ? 0 : demand.Tokens;
        var lease = _leases.GetOrAdd(scope, static s => new RateLease(s));
        var started = _timeProvider.GetTimestamp();
        var waiting = false;
        var rounds = 0;
        var retryAfter = _safetyMargin * 2;
        try
        {
            while (true)
            {
                var remaining = demand.MaxWait - _timeProvider.GetElapsedTime(started);
                Task<LeaseGrant>? shared = null;
                TaskCompletionSource<LeaseGrant>? claim = null;
                LeaseRequest? ask = null;
                lock (lease)
                {
                    var now = _timeProvider.GetTimestamp();
                    if (!waiting)
                    {
                        lease.CountDemand(tokens, now, _timeProvider);
                    }

                    if (lease.TryTake(tokens, now))
                    {
                        return new QuotaLease(lease, lease.Generation, tokens, acquired: true, TimeSpan.Zero);
                    }

                    if (!waiting)
                    {
                        // From here on this caller waits for capacity: counted so a grant covers every waiting caller.
                        waiting = true;
                        lease.WaitingRequests++;
                        lease.WaitingTokens += tokens;
                    }

                    if (remaining <= TimeSpan.Zero && rounds >= RoundsPastDeadline)
                    {
                        return new QuotaLease(lease, lease.Generation, tokens, acquired: false, retryAfter);
                    }

                    if (lease.Refill is { } inFlight && lease.RefillPriority >= demand.Priority)
                    {
                        shared = inFlight;
                    }
                    else
                    {
                        // Claimed under the lock, so callers that wake together send one request, not one each.
                        claim = new TaskCompletionSource<LeaseGrant>(TaskCreationOptions.RunContinuationsAsynchronously);
                        lease.Refill = claim.Task;
                        lease.RefillPriority = demand.Priority;
                        ask = Ask(lease, demand, tokens, remaining);
                    }
                }

                rounds++;
                if (shared is not null)
                {
                    try
                    {
                        // The authority answers by the shared request's own deadline; the extra second guards against a lost answer.
                        var bound = (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) + TimeSpan.FromSeconds(1);
                        var answer = await shared.WaitAsync(bound, _timeProvider, cancellationToken).ConfigureAwait(false);
                        retryAfter = answer.Granted ? retryAfter : answer.RetryAfter;
                    }
                    catch (TimeoutException)
                    {
                    }

                    continue;
                }

                // Admitted, or refused by the authority after queueing as long as the caller's wait allowed. Null: granted
                // too late to use (a cold or loaded silo), so look at the lease again and ask again if the rounds allow.
                if (await RefillAsync(lease, ask!, claim!, cancellationToken).ConfigureAwait(false) is { } result)
                {
                    // An admitted claimer was taken off the waiting count by RefillAsync, before the sharers woke.
                    waiting &= !result.IsAcquired;
                    return result;
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

    private LeaseRequest Ask(RateLease lease, QuotaDemand demand, int tokens, TimeSpan remaining)
    {
        var scope = lease.Scope;
        var (requestsWanted, tokensWanted) = lease.Wanted(tokens);
        return new LeaseRequest
        {
            HolderId = _authorities.HolderId,
            AppId = demand.AppId,
            Priority = demand.Priority,
            RequestsNeeded = scope.RequestsPerMinute is null ? 0 : 1,
            TokensNeeded = tokens,
            RequestsWanted = scope.RequestsPerMinute is null ? 0 : requestsWanted,
            TokensWanted = scope.TokensPerMinute is null ? 0 : tokensWanted,
            RequestsWaiting = scope.RequestsPerMinute is null ? 0 : Math.Max(1, lease.WaitingRequests),
            TokensWaiting = scope.TokensPerMinute is null ? 0 : Math.Max(tokens, lease.WaitingTokens),
            MaxWait = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining,
            MinValidity = _safetyMargin * 2,
        };
    }

    /// <summary>
    /// Asks the authority for a batch for the lease (the caller holds the lease's claim); null when the grant came too
    /// late to use (handed back; the caller tries again). Callers sharing the claim are woken once the lease holds it.
    /// </summary>
    private async Task<QuotaLease?> RefillAsync(RateLease lease, LeaseRequest request, TaskCompletionSource<LeaseGrant> claim, CancellationToken cancellationToken)
    {
        var scope = lease.Scope;
        var grant = new LeaseGrant { Granted = false, RetryAfter = TimeSpan.Zero };
        try
        {
            // Taken before the request leaves: the lease's expiry is measured from here, so transit time only shortens it.
            var sent = _timeProvider.GetTimestamp();
            _authorities.CountLeaseCall();
            try
            {
                // The authority answers by the deadline itself; the extra second only guards against a lost answer.
                grant = await _authorities.AcquireLeaseAsync(scope, request, cancellationToken)
                    .WaitAsync(request.MaxWait + TimeSpan.FromSeconds(1), _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Fail closed: without the authority's word nothing may be admitted.
                LogAuthorityFailed(scope.Name, ex.GetType().Name);
                grant = new LeaseGrant { Granted = false, RetryAfter = TimeSpan.FromSeconds(1) };
            }

            lock (lease)
            {
                lease.AuthorityRequestsRemaining = grant.RequestsRemaining ?? lease.AuthorityRequestsRemaining;
                lease.AuthorityTokensRemaining = grant.TokensRemaining ?? lease.AuthorityTokensRemaining;
                if (!grant.Granted)
                {
                    return new QuotaLease(lease, lease.Generation, request.TokensNeeded, acquired: false, grant.RetryAfter);
                }

                // The old batch belongs to an earlier grant (maybe an earlier slot): hand it back rather than stretch it to the new expiry.
                lease.ReturnLeftover();

                // The grant happened no earlier than send time + queueing time at the authority; transit only shortens the lease.
                var now = _timeProvider.GetTimestamp();
                var expiresAt = sent + (long)((grant.Queued + grant.ValidFor - _safetyMargin).TotalSeconds * _timeProvider.TimestampFrequency);
                if (now >= expiresAt)
                {
                    // Answered after the slot's usable part (a slow network or a loaded silo): using it could overrun the slot.
                    lease.Pending.AddReturn(grant.GrantedAtTicks, grant.Requests, grant.Tokens);
                    return null;
                }

                // The claimer is served: a follow-up request by a caller that wakes on this one must not count it.
                lease.WaitingRequests--;
                lease.WaitingTokens -= request.TokensNeeded;
                lease.Generation = grant.GrantedAtTicks;
                lease.ExpiresAt = expiresAt;
                lease.Requests = grant.Requests - request.RequestsNeeded;
                lease.Tokens = grant.Tokens - request.TokensNeeded;
                return new QuotaLease(lease, lease.Generation, request.TokensNeeded, acquired: true, TimeSpan.Zero);
            }
        }
        finally
        {
            lock (lease)
            {
                if (ReferenceEquals(lease.Refill, claim.Task))
                {
                    lease.Refill = null;
                }
            }

            // After the lease holds the batch: the callers sharing this request take from it as they wake.
            claim.TrySetResult(grant);
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.QuotaAuthorityFailed, Level = LogLevel.Warning, Message = "Quota authority {Scope} could not be reached ({Error}); refusing until it answers")]
    private partial void LogAuthorityFailed(string scope, string error);

    [LoggerMessage(EventId = GatehouseEventIds.QuotaSettleFailed, Level = LogLevel.Debug, Message = "Could not settle quota usage with {Scope} ({Error}); will retry")]
    private partial void LogSettleFailed(string scope, string error);
}
