namespace Gatehouse.Grains;

/// <summary>Money granted for one UTC day: what calls actually cost, and what is given back unused.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.BudgetSettlement")]
public sealed record BudgetSettlement
{
    /// <summary>The UTC day of the grant, <c>yyyy-MM-dd</c> (the month is its first seven characters).</summary>
    [Id(0)] public required string Day { get; init; }
    [Id(1)] public decimal Spent { get; init; }
    [Id(2)] public decimal Released { get; init; }
}
