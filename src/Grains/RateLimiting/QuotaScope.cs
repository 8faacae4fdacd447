namespace Gatehouse.RateLimiting;

/// <summary>What a set of buckets belongs to: an upstream (provider) or an application.</summary>
public enum QuotaScopeKind
{
    Provider = 0,
    App = 1,
}

/// <summary>One authority's buckets as configured: per-minute limits (null = unlimited) and a concurrency cap.</summary>
public sealed record QuotaScope(QuotaScopeKind Kind, string Name, int? RequestsPerMinute, int? TokensPerMinute, int? MaxConcurrency = null)
{
    public bool HasRateLimits => RequestsPerMinute is not null || TokensPerMinute is not null;
}

/// <summary>A caller's admission against one scope's buckets; hand it back to <see cref="QuotaLeaseHolder.Reconcile"/> with the real usage.</summary>
public sealed class QuotaTicket
{
    internal static readonly QuotaTicket Unlimited = new(null, 0, 0, admitted: true, TimeSpan.Zero);

    internal QuotaTicket(object? lease, long generation, int tokens, bool admitted, TimeSpan retryAfter)
    {
        Lease = lease;
        Generation = generation;
        Tokens = tokens;
        Admitted = admitted;
        RetryAfter = retryAfter;
    }

    public bool Admitted { get; }

    /// <summary>When not admitted: time until the bucket's next window starts.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>The tokens debited for this call (the estimate).</summary>
    public int Tokens { get; }

    internal object? Lease { get; }

    internal long Generation { get; }
}

/// <summary>The caller's view of an app's limits, for the <c>x-ratelimit-*</c> headers.</summary>
/// <remarks>Remaining = the authority's remaining over the last minute at this silo's last grant + the unused units of this silo's lease.</remarks>
public sealed record RateLimitSnapshot(int? RequestsLimit, int? RequestsRemaining, int? TokensLimit, int? TokensRemaining);
