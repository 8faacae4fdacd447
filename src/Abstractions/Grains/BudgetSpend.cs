namespace Gatehouse.Grains;

/// <summary>An app's spend in its current UTC day and month, settled (spent) and reserved by calls not yet settled.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.BudgetSpend")]
public sealed record BudgetSpend
{
    [Id(0)] public string Day { get; init; } = "";
    [Id(1)] public decimal DaySpentUsd { get; init; }
    [Id(2)] public decimal DayReservedUsd { get; init; }
    [Id(3)] public DateTimeOffset DayEndsAt { get; init; }
    [Id(4)] public string Month { get; init; } = "";
    [Id(5)] public decimal MonthSpentUsd { get; init; }
    [Id(6)] public decimal MonthReservedUsd { get; init; }
    [Id(7)] public DateTimeOffset MonthEndsAt { get; init; }
}
