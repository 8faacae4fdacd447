using System.Threading.RateLimiting;

namespace Gatehouse.RateLimiting;

/// <summary>
/// A concurrency slot held for one upstream call, or a refusal carrying <see cref="MetadataName.RetryAfter"/>;
/// disposing an acquired lease releases the slot to this silo's pool.
/// </summary>
public sealed class SlotLease : RateLimitLease
{
    internal static readonly SlotLease Unlimited = new(null, acquired: true, TimeSpan.Zero);

    private static readonly string[] RetryAfterOnly = [MetadataName.RetryAfter.Name];

    private SlotPool? _pool;

    internal SlotLease(SlotPool? pool, bool acquired, TimeSpan retryAfter)
    {
        _pool = acquired ? pool : null;
        IsAcquired = acquired;
        RetryAfter = retryAfter;
    }

    public override bool IsAcquired { get; }

    /// <summary>When refused: roughly when a slot may be free (calls end, or another silo's renewal gives slots back).</summary>
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

    protected override void Dispose(bool disposing) => Interlocked.Exchange(ref _pool, null)?.Release();
}
