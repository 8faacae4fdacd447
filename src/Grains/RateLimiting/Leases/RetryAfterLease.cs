using System.Threading.RateLimiting;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>A lease that, when refused, carries <see cref="MetadataName.RetryAfter"/> (Polly's rejection shape; becomes HTTP <c>retry-after</c>).</summary>
public abstract class RetryAfterLease : RateLimitLease
{
    private static readonly string[] RetryAfterOnly = [MetadataName.RetryAfter.Name];

    private protected RetryAfterLease(bool acquired, TimeSpan retryAfter)
    {
        IsAcquired = acquired;
        RetryAfter = retryAfter;
    }

    public override bool IsAcquired { get; }

    /// <summary>When refused: roughly when capacity is expected again.</summary>
    public TimeSpan RetryAfter { get; }

    public override IEnumerable<string> MetadataNames => IsAcquired ? [] : RetryAfterOnly;

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
