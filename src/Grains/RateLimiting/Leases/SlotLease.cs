using System.Threading.RateLimiting;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// A concurrency slot held for one upstream call, or a refusal carrying <see cref="MetadataName.RetryAfter"/>;
/// disposing an acquired lease releases the slot to this silo's pool.
/// </summary>
public sealed class SlotLease : RetryAfterLease
{
    internal static readonly SlotLease Unlimited = new(null, acquired: true, TimeSpan.Zero);

    private SlotPool? _pool;

    internal SlotLease(SlotPool? pool, bool acquired, TimeSpan retryAfter)
        : base(acquired, retryAfter)
    {
        _pool = acquired ? pool : null;
    }

    protected override void Dispose(bool disposing) => Interlocked.Exchange(ref _pool, null)?.Release();
}
