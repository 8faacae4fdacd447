using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>This silo's lease on one scope's requests and tokens buckets. Guarded by locking the instance.</summary>
internal sealed class RateLease(QuotaScope scope)
{
    private static readonly TimeSpan DemandPeriod = TimeSpan.FromSeconds(1);

    private long _demandPeriodStart;
    private int _demandRequests;
    private int _demandTokens;
    private int _previousDemandRequests;
    private int _previousDemandTokens;

    public QuotaScope Scope { get; } = scope;

    /// <summary>The current batch's <c>GrantedAtTicks</c>: which grant its units are returned against.</summary>
    public long Generation;
    public long ExpiresAt;
    public int Requests;
    public int Tokens;
    public int? AuthorityRequestsRemaining;
    public int? AuthorityTokensRemaining;
    public Task<LeaseGrant>? Refill;
    public RequestPriority RefillPriority;
    public int WaitingRequests;
    public int WaitingTokens;

    public PendingSettlement Pending { get; } = new();

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

    /// <summary>Moves what is left of the batch, expired or not, to the units handed back at the next settlement.</summary>
    public void ReturnLeftover()
    {
        Pending.AddReturn(Generation, Requests, Tokens);
        Requests = 0;
        Tokens = 0;
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
}
