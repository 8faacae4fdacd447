namespace Gatehouse.RateLimiting;

/// <summary>One per-minute limit at its authority: what is left of the current window, and usage owed to later windows.</summary>
/// <remarks>
/// Not thread-safe: owned by one grain activation. Refill is lazy — computed from the time passed in, no timer per tick.
/// A request larger than a whole window's budget (a big prompt against a small tokens/minute limit) is admitted only
/// into an untouched window, and the excess is carried as debt that the following windows pay first; so the total over
/// any minute can exceed the limit by at most that one request's excess (documented trade-off: otherwise such a
/// request could never run).
/// </remarks>
internal sealed class WindowedBucket
{
    private readonly (long Window, int Used)[] _history;
    private long _window = long.MinValue;
    private int _used;
    private long _debt;

    public WindowedBucket(int limitPerMinute)
    {
        Schedule = new WindowSchedule(limitPerMinute);
        _history = new (long, int)[Schedule.WindowsPerMinute];
        for (var i = 0; i < _history.Length; i++)
        {
            _history[i] = (long.MinValue, 0);
        }
    }

    public WindowSchedule Schedule { get; }

    public int Limit => Schedule.Limit;

    /// <summary>Units still grantable in the window holding <paramref name="now"/>.</summary>
    public int Available(DateTimeOffset now)
    {
        Roll(now);
        return Math.Max(0, Schedule.BudgetOf(_window) - _used);
    }

    /// <summary>Whether <paramref name="units"/> can be taken now (whole, or as the one oversized request of an untouched window).</summary>
    public bool CanTake(int units, DateTimeOffset now)
    {
        var available = Available(now);
        return units <= available || (_used == 0 && _debt == 0 && available > 0);
    }

    /// <summary>Debits units granted now; callers check <see cref="CanTake"/> first.</summary>
    public void Take(int units, DateTimeOffset now)
    {
        var available = Available(now);
        var fromWindow = Math.Min(units, available);
        _used += fromWindow;
        _debt += units - fromWindow;
    }

    /// <summary>Credits units back, but only into the window they were granted in.</summary>
    public void Return(int units, DateTimeOffset grantedAt, DateTimeOffset now)
    {
        Roll(now);
        if (Schedule.WindowOf(grantedAt) == _window)
        {
            _used = Math.Max(0, _used - units);
        }
    }

    /// <summary>Debits usage the estimate missed: from this window's rest, then from the following windows.</summary>
    public void Owe(int units, DateTimeOffset now) => Take(units, now);

    /// <summary>What is left of the limit over the last minute (the current window and the n−1 before it), debt included.</summary>
    public int RemainingInMinute(DateTimeOffset now)
    {
        Roll(now);
        long used = _used + _debt;
        foreach (var (window, windowUsed) in _history)
        {
            if (window < _window && window > _window - Schedule.WindowsPerMinute)
            {
                used += windowUsed;
            }
        }

        return (int)Math.Max(0, Limit - used);
    }

    public DateTimeOffset NextWindowStart(DateTimeOffset now)
    {
        Roll(now);
        return Schedule.EndOf(_window);
    }

    private void Roll(DateTimeOffset now)
    {
        var window = Schedule.WindowOf(now);
        if (window <= _window)
        {
            return;
        }

        if (_window != long.MinValue)
        {
            _history[Slot(_window)] = (_window, _used);
            // Debt is paid by the windows that passed (each up to its budget) before the new one starts.
            for (var w = _window + 1; w < window && _debt > 0; w++)
            {
                var paid = (int)Math.Min(_debt, Schedule.BudgetOf(w));
                _debt -= paid;
                _history[Slot(w)] = (w, paid);
            }
        }

        _window = window;
        var fromDebt = (int)Math.Min(_debt, Schedule.BudgetOf(window));
        _debt -= fromDebt;
        _used = fromDebt;
    }

    private int Slot(long window) => (int)(window % _history.Length);
}
