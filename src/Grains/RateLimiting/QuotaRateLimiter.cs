using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Gatehouse.Grains;
using Microsoft.Extensions.Logging;

namespace Gatehouse.RateLimiting;

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

    /// <summary>How often a caller whose grant arrived too late to use may ask again past its max-wait.</summary>
    private const int MaxLateGrantRetries = 2;

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
        // Max-wait bounds the wait for capacity, not the round trip that asks for it: every caller gets at least one
        // answer from the authority (its own request or one it shares), and a grant that arrived too late to use
        // (a cold or loaded silo) is asked for again rather than turned into a refusal.
        var joined = 0;
        var asked = 0;
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
                            return new QuotaLease(lease, lease.Generation, tokens, acquired: true, TimeSpan.Zero);
                        }

                        // From here on this caller waits for capacity: counted so a contended grant covers every waiting caller.
                        waiting = true;
                        lease.WaitingRequests++;
                        lease.WaitingTokens += tokens;
                    }
                    else if (lease.TryTake(tokens, now))
                    {
                        return new QuotaLease(lease, lease.Generation, tokens, acquired: true, TimeSpan.Zero);
                    }

                    if (lease.Refill is { } inFlight && lease.RefillPriority >= demand.Priority)
                    {
                        shared = inFlight;
                    }

                    (requestsWanted, tokensWanted) = lease.Wanted(tokens);
                    (requestsWaiting, tokensWaiting) = (lease.WaitingRequests, lease.WaitingTokens);
                }

                var remaining = demand.MaxWait - _timeProvider.GetElapsedTime(started);
                if (shared is not null)
                {
                    if (joined > 0 && remaining <= TimeSpan.Zero)
                    {
                        return await RejectedAsync(shared, lease, tokens).ConfigureAwait(false);
                    }

                    joined++;
                    try
                    {
                        // The authority answers by the shared request's own deadline; the extra second guards against a lost answer.
                        var bound = (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) + TimeSpan.FromSeconds(1);
                        await shared.WaitAsync(bound, _timeProvider, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                    }

                    continue;
                }

                if (asked > 0 && remaining <= TimeSpan.Zero)
                {
                    return new QuotaLease(lease, lease.Generation, tokens, acquired: false, _safetyMargin * 2);
                }

                asked++;
                var ask = new LeaseRequest
                {
                    HolderId = _authorities.HolderId,
                    AppId = demand.AppId,
                    Priority = demand.Priority,
                    RequestsNeeded = scope.RequestsPerMinute is null ? 0 : 1,
                    TokensNeeded = tokens,
                    RequestsWanted = scope.RequestsPerMinute is null ? 0 : requestsWanted,
                    TokensWanted = scope.TokensPerMinute is null ? 0 : tokensWanted,
                    RequestsWaiting = scope.RequestsPerMinute is null ? 0 : Math.Max(1, requestsWaiting),
                    TokensWaiting = scope.TokensPerMinute is null ? 0 : Math.Max(tokens, tokensWaiting),
                    MaxWait = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining,
                    MinValidity = _safetyMargin * 2,
                };
                if (await RefillAsync(lease, ask, cancellationToken).ConfigureAwait(false) is { } admitted)
                {
                    return admitted;
                }

                if (++lateGrants <= MaxLateGrantRetries)
                {
                    asked--;
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

    /// <summary>Asks the authority for a batch; null when the grant came too late to use (handed back; the caller tries again).</summary>
    private async Task<QuotaLease?> RefillAsync(RateLease lease, LeaseRequest request, CancellationToken cancellationToken)
    {
        var scope = lease.Scope;
        // Taken before the request leaves: the lease's expiry is measured from here, so transit time only shortens it.
        var sent = _timeProvider.GetTimestamp();
        _authorities.CountLeaseCall();
        var call = _authorities.For(scope).AcquireLeaseAsync(request, cancellationToken);
        lock (lease)
        {
            if (lease.Refill is null || lease.RefillPriority < request.Priority)
            {
                lease.Refill = call;
                lease.RefillPriority = request.Priority;
            }
        }

        LeaseGrant grant;
        try
        {
            // The authority answers by the deadline itself; the extra second only guards against a lost answer.
            grant = await call.WaitAsync(request.MaxWait + TimeSpan.FromSeconds(1), _timeProvider, cancellationToken).ConfigureAwait(false);
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

            lease.Generation = grant.GrantedAtTicks;
            lease.ExpiresAt = expiresAt;
            lease.Requests = grant.Requests - request.RequestsNeeded;
            lease.Tokens = grant.Tokens - request.TokensNeeded;
            return new QuotaLease(lease, lease.Generation, request.TokensNeeded, acquired: true, TimeSpan.Zero);
        }
    }

    private static async Task<QuotaLease> RejectedAsync(Task<LeaseGrant> shared, RateLease lease, int tokens)
    {
        var retryAfter = TimeSpan.FromMilliseconds(100);
        if (shared.IsCompletedSuccessfully)
        {
            retryAfter = (await shared.ConfigureAwait(false)).RetryAfter;
        }

        return new QuotaLease(lease, lease.Generation, tokens, acquired: false, retryAfter);
    }

    [LoggerMessage(EventId = GatehouseEventIds.QuotaAuthorityFailed, Level = LogLevel.Warning, Message = "Quota authority {Scope} could not be reached ({Error}); refusing until it answers")]
    private partial void LogAuthorityFailed(string scope, string error);

    [LoggerMessage(EventId = GatehouseEventIds.QuotaSettleFailed, Level = LogLevel.Debug, Message = "Could not settle quota usage with {Scope} ({Error}); will retry")]
    private partial void LogSettleFailed(string scope, string error);
}
