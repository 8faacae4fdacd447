namespace Gatehouse.RateLimiting.Authorities;

/// <summary>
/// One per-minute limit at its authority: at most <see cref="Limit"/> units in any 60 seconds, of which at most
/// <see cref="Burst"/> at once (a token bucket of that size, refilled a second's worth of the limit at each second).
/// </summary>
/// <remarks>
/// <para>
/// Not thread-safe: owned by one grain activation. Units are counted in 1-second UTC slots. A lease granted in slot
/// <c>s</c> may be used until the end of <c>s</c>, so its units count against the minute after that: slots <c>s</c> to
/// <c>s + 60</c>. Checking the 61 newest slots before every grant keeps every 60-second interval of real use within
/// the limit, whenever in its slot each unit was spent; the price is that a unit frees up to one second late.
/// </para>
/// <para>
/// Refill is lazy, computed from the time passed in; no timer per tick. A request larger than the whole limit (a big
/// prompt against a small tokens/minute limit) is admitted only into an untouched bucket, so the total over a minute
/// can exceed the limit by at most that one request's excess (otherwise such a request could never run).
/// </para>
/// </remarks>
internal sealed class SlidingWindowBucket
{
    /// <summary>The slots one unit counts in: its own and the 60 seconds after it ends.</summary>
    public const int HistorySlots = 61;

    private readonly int[] _granted = new int[HistorySlots];
    private readonly double _refillPerSlot;
    private long _slot = long.MinValue;
    private int _usedInHistory;
    // Units granted for the slot after the current one (a lease asked for too near the current slot's end).
    private int _ahead;
    private double _burstTokens;
    private long _burstAtTicks;

    public SlidingWindowBucket(int limitPerMinute, int? burst = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limitPerMinute);
        Limit = limitPerMinute;
        Burst = Math.Clamp(burst ?? limitPerMinute, 1, limitPerMinute);
        _refillPerSlot = limitPerMinute / 60.0;
        _burstTokens = Burst;
    }

    public int Limit { get; }

    public int Burst { get; }

    /// <summary>The largest request that fits the normal way; a larger one needs an untouched bucket.</summary>
    private int LargestFit => Math.Min(Limit, Burst);

    public static long SlotOf(DateTimeOffset time) => time.UtcTicks / TimeSpan.TicksPerSecond;

    public static DateTimeOffset StartOf(long slot) => new(slot * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    /// <summary>Units grantable now: what the last minute left and what the burst allowance holds.</summary>
    public int Available(DateTimeOffset now)
    {
        Roll(now);
        return (int)Math.Max(0, Math.Min(Limit - _usedInHistory - _ahead, Math.Floor(BurstTokens(now))));
    }

    /// <summary>Whether <paramref name="units"/> can be taken now (whole, or as the one oversized request of an untouched bucket).</summary>
    public bool CanTake(int units, DateTimeOffset now) =>
        units <= Available(now) || (units > LargestFit && IsUntouched(now));

    /// <summary>Debits units granted now; callers check <see cref="CanTake"/> first.</summary>
    /// <param name="units">The units.</param>
    /// <param name="now">The time of the grant.</param>
    /// <param name="forNextSlot">The lease lasts until the end of the next slot: the units count from that slot on.</param>
    public void Take(int units, DateTimeOffset now, bool forNextSlot = false)
    {
        Roll(now);
        var refilled = BurstTokens(now);
        if (forNextSlot)
        {
            _ahead += units;
        }
        else
        {
            _granted[Index(_slot)] += units;
            _usedInHistory += units;
        }

        // May go below zero for an oversized request or owed usage: the refill pays it back before anything else.
        _burstTokens = refilled - units;
        _burstAtTicks = now.UtcTicks;
    }

    /// <summary>Debits usage the estimate missed, whether or not it fits: it was spent upstream already.</summary>
    public void Owe(int units, DateTimeOffset now) => Take(units, now);

    /// <summary>Credits units that were granted at <paramref name="grantedAt"/> and never used back to their slot.</summary>
    public void Return(int units, DateTimeOffset grantedAt, DateTimeOffset now)
    {
        Roll(now);
        var slot = SlotOf(grantedAt);
        if (units <= 0 || slot > _slot + 1 || slot <= _slot - HistorySlots)
        {
            return;
        }

        int credited;
        if (slot > _slot)
        {
            credited = Math.Min(units, _ahead);
            _ahead -= credited;
        }
        else
        {
            credited = Math.Min(units, _granted[Index(slot)]);
            _granted[Index(slot)] -= credited;
            _usedInHistory -= credited;
        }

        _burstTokens = Math.Min(Burst, BurstTokens(now) + credited);
        _burstAtTicks = now.UtcTicks;
    }

    /// <summary>What is left of the limit over the last minute.</summary>
    public int RemainingInMinute(DateTimeOffset now)
    {
        Roll(now);
        return Math.Max(0, Limit - _usedInHistory - _ahead);
    }

    /// <summary>When the current slot ends: a lease granted now is valid until then.</summary>
    public DateTimeOffset SlotEnd(DateTimeOffset now) => StartOf(SlotOf(now) + 1);

    /// <summary>The earliest time <paramref name="units"/> could be granted, if nothing else is granted meanwhile.</summary>
    public DateTimeOffset AvailableAt(int units, DateTimeOffset now)
    {
        Roll(now);
        if (units > LargestFit)
        {
            // Needs an untouched bucket: every counted slot aged out and the burst allowance full again.
            var newest = _ahead > 0 ? _slot + 1 : _slot;
            while (newest > _slot - HistorySlots && newest <= _slot && _granted[Index(newest)] == 0)
            {
                newest--;
            }

            var empty = newest > _slot - HistorySlots ? StartOf(newest + HistorySlots) : now;
            return Later(empty, RefilledAt(Burst - BurstTokens(now), now));
        }

        var byWindow = now;
        var freed = Limit - _usedInHistory - _ahead;
        for (var slot = _slot - HistorySlots + 1; freed < units && slot <= _slot + 1; slot++)
        {
            freed += slot > _slot ? _ahead : _granted[Index(slot)];
            byWindow = StartOf(slot + HistorySlots);
        }

        return Later(byWindow, RefilledAt(units - BurstTokens(now), now));
    }

    /// <summary>The persisted form: the counted slots, oldest first (the next slot's units last, if any), and the burst allowance.</summary>
    public BucketRecord ToRecord(DateTimeOffset now)
    {
        Roll(now);
        var counts = new int[HistorySlots + (_ahead > 0 ? 1 : 0)];
        for (var i = 0; i < HistorySlots; i++)
        {
            counts[i] = _granted[Index(_slot - HistorySlots + 1 + i)];
        }

        if (_ahead > 0)
        {
            counts[HistorySlots] = _ahead;
        }

        return new BucketRecord
        {
            NewestSlot = _slot + (_ahead > 0 ? 1 : 0),
            Granted = counts,
            BurstTokens = BurstTokens(now),
            BurstAtTicks = now.UtcTicks,
        };
    }

    /// <summary>Resumes from a persisted form (written by this or an earlier activation, possibly on another silo).</summary>
    public void Restore(BucketRecord record, DateTimeOffset now)
    {
        Array.Clear(_granted);
        _usedInHistory = 0;
        _ahead = 0;
        var counts = record.Granted ?? [];
        // Clocks of silos differ a little: a record written "ahead" of this clock keeps its newest slot as the next one.
        _slot = Math.Min(record.NewestSlot, Math.Max(SlotOf(now), record.NewestSlot - 1));
        for (var i = 0; i < counts.Length; i++)
        {
            var slot = record.NewestSlot - counts.Length + 1 + i;
            if (slot > _slot)
            {
                _ahead += counts[i];
            }
            else if (slot > _slot - HistorySlots)
            {
                _granted[Index(slot)] += counts[i];
                _usedInHistory += counts[i];
            }
        }

        _burstTokens = Math.Min(Burst, record.BurstTokens);
        _burstAtTicks = record.BurstAtTicks;
        Roll(now);
    }

    private bool IsUntouched(DateTimeOffset now)
    {
        Roll(now);
        return _usedInHistory == 0 && _ahead == 0 && BurstTokens(now) >= Burst;
    }

    // The burst allowance refills at each slot start, a second's worth at once: grants under saturation then come in
    // a slot's worth per silo, not in the sliver that accrued since the last one (an authority call each).
    private double BurstTokens(DateTimeOffset now)
    {
        var slots = Math.Max(0, SlotOf(now) - SlotOf(new DateTimeOffset(_burstAtTicks, TimeSpan.Zero)));
        return Math.Min(Burst, _burstTokens + (slots * _refillPerSlot));
    }

    private DateTimeOffset RefilledAt(double missing, DateTimeOffset now) =>
        missing <= 0 ? now : StartOf(SlotOf(now) + (long)Math.Ceiling(missing / _refillPerSlot));

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private void Roll(DateTimeOffset now)
    {
        var slot = SlotOf(now);
        if (slot <= _slot)
        {
            return;
        }

        var aheadSlot = _slot + 1;
        if (_slot == long.MinValue || slot - _slot >= HistorySlots)
        {
            Array.Clear(_granted);
            _usedInHistory = 0;
        }
        else
        {
            for (var s = _slot + 1; s <= slot; s++)
            {
                _usedInHistory -= _granted[Index(s)];
                _granted[Index(s)] = 0;
            }
        }

        if (_ahead > 0 && _slot != long.MinValue && aheadSlot > slot - HistorySlots)
        {
            _granted[Index(aheadSlot)] += _ahead;
            _usedInHistory += _ahead;
        }

        _ahead = 0;
        _slot = slot;
    }

    private static int Index(long slot) => (int)(((slot % HistorySlots) + HistorySlots) % HistorySlots);
}
