using System.Threading.RateLimiting;

namespace Gatehouse.RateLimiting;

/// <summary>
/// A call's admission against one scope's requests and tokens buckets; when refused it carries
/// <see cref="MetadataName.RetryAfter"/>. Hand it to <see cref="QuotaRateLimiter.Reconcile"/> with the real usage.
/// </summary>
/// <remarks>Disposing it does nothing: the units are debited up front and spent by the call.</remarks>
public sealed class QuotaLease : RateLimitLease
{
    internal static readonly QuotaLease Unlimited = new(null, 0, 0, acquired: true, TimeSpan.Zero);

    private static readonly string[] RetryAfterOnly = [MetadataName.RetryAfter.Name];

    internal QuotaLease(RateLease? lease, long generation, int tokens, bool acquired, TimeSpan retryAfter)
    {
        Lease = lease;
        Generation = generation;
        Tokens = tokens;
        IsAcquired = acquired;
        RetryAfter = retryAfter;
    }

    public override bool IsAcquired { get; }

    /// <summary>When refused: time until the buckets are expected to have room again.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>The tokens debited for this call (the estimate).</summary>
    public int Tokens { get; }

    public override IEnumerable<string> MetadataNames => IsAcquired ? [] : RetryAfterOnly;

    internal RateLease? Lease { get; }

    internal long Generation { get; }

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (!IsAcquired && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = RetryAfter;
            return true;
        }

        metadata = null;
        return false;
    }
}
