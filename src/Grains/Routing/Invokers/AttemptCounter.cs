namespace Gatehouse.Routing.Invokers;

/// <summary>Numbers the upstream calls of one request, across its targets, retries and hedges (<c>x-gatehouse-attempts</c>).</summary>
/// <remarks>Thread-safe: the two calls of a hedged pair count at the same time.</remarks>
public sealed class AttemptCounter
{
    private int _count;

    /// <summary>The calls made so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Counts one more call and returns its number.</summary>
    public int Next() => Interlocked.Increment(ref _count);
}
