namespace Gatehouse.RateLimiting;

/// <summary>
/// Quantizes a per-minute limit into fixed, UTC-aligned windows, as OpenAI does ("60,000 RPM may be enforced as
/// 1,000 per second"): <c>min(limit, 60)</c> windows per minute, so 1 s windows when the limit is at least 60 and
/// <c>60/limit</c> s windows with a budget of 1 below that.
/// </summary>
/// <remarks>
/// Window <c>i</c> of a minute gets <c>floor((i+1)·L/n) − floor(i·L/n)</c> units: the remainder is spread evenly and
/// any <c>n</c> consecutive windows (not just an aligned minute) sum to exactly the limit.
/// </remarks>
internal readonly record struct WindowSchedule
{
    public WindowSchedule(int limitPerMinute)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limitPerMinute);
        Limit = limitPerMinute;
        WindowsPerMinute = Math.Min(limitPerMinute, 60);
    }

    public int Limit { get; }

    public int WindowsPerMinute { get; }

    /// <summary>The longest window of this schedule (windows differ by at most one tick).</summary>
    public TimeSpan MaxWindowLength => TimeSpan.FromTicks((TimeSpan.TicksPerMinute + WindowsPerMinute - 1) / WindowsPerMinute);

    /// <summary>The absolute number of the window holding <paramref name="time"/>.</summary>
    public long WindowOf(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        // Split first: ticks since year 1 times 60 would overflow a long.
        return (ticks / TimeSpan.TicksPerMinute * WindowsPerMinute) + (ticks % TimeSpan.TicksPerMinute * WindowsPerMinute / TimeSpan.TicksPerMinute);
    }

    public DateTimeOffset StartOf(long window)
    {
        var minute = window / WindowsPerMinute;
        var index = window % WindowsPerMinute;
        // The ceiling makes StartOf the exact inverse of WindowOf's floor.
        var offset = ((index * TimeSpan.TicksPerMinute) + WindowsPerMinute - 1) / WindowsPerMinute;
        return new DateTimeOffset((minute * TimeSpan.TicksPerMinute) + offset, TimeSpan.Zero);
    }

    public DateTimeOffset EndOf(long window) => StartOf(window + 1);

    public int BudgetOf(long window)
    {
        var index = window % WindowsPerMinute;
        return (int)((((index + 1) * Limit) / WindowsPerMinute) - ((index * Limit) / WindowsPerMinute));
    }
}
