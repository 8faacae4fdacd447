namespace Gatehouse.Grains;

/// <summary>Money granted for the authority's current day, or a refusal saying which budget is spent and until when.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.BudgetLeaseGrant")]
public sealed record BudgetLeaseGrant
{
    [Id(0)] public bool Granted { get; init; }
    [Id(1)] public decimal Amount { get; init; }
    /// <summary>The UTC day the money is granted for (<c>yyyy-MM-dd</c>); it may be reserved until <see cref="DayEndsAt"/>.</summary>
    [Id(2)] public string Day { get; init; } = "";
    [Id(3)] public DateTimeOffset DayEndsAt { get; init; }
    /// <summary>On a refusal: the budget that is spent (<c>day</c> or <c>month</c>), its amount, and when it resets.</summary>
    [Id(4)] public string? Period { get; init; }
    [Id(5)] public decimal BudgetUsd { get; init; }
    [Id(6)] public DateTimeOffset ResetsAt { get; init; }
}
