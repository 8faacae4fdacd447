namespace Gatehouse.Ledger;

/// <summary>
/// The ledger's store with <c>Storage:Kind Memory</c>: the last <see cref="Capacity"/> records of this silo, in a ring.
/// </summary>
/// <remarks>
/// Bounded: when the ring is full, each new record overwrites the oldest (counted in <see cref="Overwritten"/>).
/// Nothing survives the process, and each silo holds only its own records.
/// </remarks>
public sealed class MemoryUsageSink : IUsageSink
{
    public const int DefaultCapacity = 100_000;

    private readonly Lock _lock = new();
    private readonly UsageRecord[] _ring;
    private int _next;
    private int _count;
    private long _overwritten;

    public MemoryUsageSink(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new UsageRecord[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>Records pushed out of the ring by newer ones.</summary>
    public long Overwritten
    {
        get
        {
            lock (_lock)
            {
                return _overwritten;
            }
        }
    }

    public Task WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var record in batch)
            {
                _ring[_next] = record;
                _next = (_next + 1) % _ring.Length;
                if (_count < _ring.Length)
                {
                    _count++;
                }
                else
                {
                    _overwritten++;
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The records held, oldest first.</summary>
    public UsageRecord[] Snapshot()
    {
        lock (_lock)
        {
            var copy = new UsageRecord[_count];
            var start = (_next - _count + _ring.Length) % _ring.Length;
            for (var i = 0; i < _count; i++)
            {
                copy[i] = _ring[(start + i) % _ring.Length];
            }

            return copy;
        }
    }
}
