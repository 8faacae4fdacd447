using System.Threading.RateLimiting;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// A call's admission against one scope's requests and tokens buckets; when refused it carries
/// <see cref="MetadataName.RetryAfter"/>. Hand it to <see cref="QuotaRateLimiter.Reconcile"/> with the real usage.
/// </summary>
/// <remarks>Disposing it does nothing: the units are debited up front and spent by the call.</remarks>
public sealed class QuotaLease : RetryAfterLease
{
    internal static readonly QuotaLease Unlimited = new(null, 0, 0, acquired: true, TimeSpan.Zero);

    internal QuotaLease(RateLease? lease, long generation, int tokens, bool acquired, TimeSpan retryAfter)
        : base(acquired, retryAfter)
    {
        Lease = lease;
        Generation = generation;
        Tokens = tokens;
    }

    /// <summary>The tokens debited for this call (the estimate).</summary>
    public int Tokens { get; }

    internal RateLease? Lease { get; }

    internal long Generation { get; }
}
