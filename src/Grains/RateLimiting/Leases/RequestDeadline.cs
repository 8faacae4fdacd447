namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// One request's wait budget on this silo: a single deadline that the app quota, every target's bucket and slot waits
/// and the wait for an open circuit all spend from; each bucket wait may also be capped on its own.
/// </summary>
/// <remarks>
/// Measured on this silo's monotonic clock, so it never crosses a grain call as a timestamp: pass
/// <see cref="Remaining"/> on (as <c>RoutedCall.RemainingWait</c>) and start a new deadline from it on the other side.
/// </remarks>
public readonly struct RequestDeadline
{
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _bucketCap;

    internal RequestDeadline(TimeProvider timeProvider, TimeSpan budget, TimeSpan bucketCap)
    {
        _timeProvider = timeProvider;
        _bucketCap = bucketCap;
        budget = budget < TimeSpan.Zero ? TimeSpan.Zero : budget;
        Timestamp = timeProvider.GetTimestamp() + (long)(budget.TotalSeconds * timeProvider.TimestampFrequency);
    }

    /// <summary>The deadline on this silo's <see cref="TimeProvider.GetTimestamp"/> clock.</summary>
    public long Timestamp { get; }

    /// <summary>What is left of the budget (never negative).</summary>
    public TimeSpan Remaining
    {
        get
        {
            var left = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), Timestamp);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>How long the next bucket or slot may be waited for: what is left, within the per-bucket cap.</summary>
    public TimeSpan BucketWait
    {
        get
        {
            var left = Remaining;
            return left < _bucketCap ? left : _bucketCap;
        }
    }
}
