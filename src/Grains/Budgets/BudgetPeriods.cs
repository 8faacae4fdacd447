using System.Globalization;

namespace Gatehouse.Budgets;

/// <summary>The UTC day and month a moment falls in, as budgets count them: <c>yyyy-MM-dd</c> and <c>yyyy-MM</c>.</summary>
public static class BudgetPeriods
{
    public static string Day(DateTimeOffset now) => now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The month of a day key (its first seven characters).</summary>
    public static string MonthOf(string day) => day[..7];

    public static DateTimeOffset DayEnd(DateTimeOffset now) => new(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);

    public static DateTimeOffset MonthEnd(DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
    }
}
