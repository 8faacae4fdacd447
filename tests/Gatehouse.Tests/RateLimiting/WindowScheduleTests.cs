using Gatehouse.RateLimiting;

namespace Gatehouse.Tests.RateLimiting;

public sealed class WindowScheduleTests
{
    private static readonly DateTimeOffset Minute = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(59)]
    [InlineData(60)]
    [InlineData(61)]
    [InlineData(600)]
    [InlineData(1_000)]
    [InlineData(60_000)]
    [InlineData(2_000_000)]
    public void BudgetOf_AnyMinuteOfWindows_SumsExactlyToTheLimit(int limit)
    {
        var schedule = new WindowSchedule(limit);
        var first = schedule.WindowOf(Minute);

        var aligned = Enumerable.Range(0, schedule.WindowsPerMinute).Sum(i => (long)schedule.BudgetOf(first + i));
        // Not only aligned minutes: any n consecutive windows hold exactly the limit.
        var shifted = Enumerable.Range(0, schedule.WindowsPerMinute).Sum(i => (long)schedule.BudgetOf(first + 17 + i));

        Assert.Equal(limit, aligned);
        Assert.Equal(limit, shifted);
    }

    [Fact]
    public void BudgetOf_LimitNotAMultipleOfSixty_SpreadsTheRemainderOnePerWindow()
    {
        var schedule = new WindowSchedule(610);
        var first = schedule.WindowOf(Minute);

        var budgets = Enumerable.Range(0, 60).Select(i => schedule.BudgetOf(first + i)).ToArray();

        Assert.Equal(10, budgets.Count(b => b == 11));
        Assert.Equal(50, budgets.Count(b => b == 10));
    }

    [Theory]
    [InlineData(600, 1_000)]
    [InlineData(60, 1_000)]
    [InlineData(30, 2_000)]
    [InlineData(1, 60_000)]
    public void WindowOf_LimitPerMinute_UsesOneSecondWindowsFromSixtyAndLongerBelow(int limit, int windowMs)
    {
        var schedule = new WindowSchedule(limit);
        var window = schedule.WindowOf(Minute);

        Assert.Equal(Minute, schedule.StartOf(window));
        Assert.Equal(TimeSpan.FromMilliseconds(windowMs), schedule.EndOf(window) - schedule.StartOf(window));
        Assert.Equal(window, schedule.WindowOf(Minute.AddMilliseconds(windowMs).AddTicks(-1)));
        Assert.Equal(window + 1, schedule.WindowOf(Minute.AddMilliseconds(windowMs)));
        Assert.Equal(limit >= 60 ? limit / 60 : 1, schedule.BudgetOf(window));
    }

    [Fact]
    public void StartOf_WindowsThatDoNotDivideAMinute_IsTheInverseOfWindowOf()
    {
        var schedule = new WindowSchedule(7);
        var first = schedule.WindowOf(Minute);

        for (var w = first; w < first + 14; w++)
        {
            var start = schedule.StartOf(w);
            Assert.Equal(w, schedule.WindowOf(start));
            Assert.Equal(w - 1, schedule.WindowOf(start.AddTicks(-1)));
        }
    }
}
