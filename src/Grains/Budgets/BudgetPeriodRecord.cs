namespace Gatehouse.Budgets;

/// <summary>One period (a UTC day or month): what calls cost, and what is committed (spent + granted, not yet settled).</summary>
[GenerateSerializer, Alias("gatehouse.BudgetPeriodRecord")]
internal sealed class BudgetPeriodRecord
{
    /// <summary><c>yyyy-MM-dd</c> or <c>yyyy-MM</c>; empty before the first grant.</summary>
    [Id(0)] public string Key { get; set; } = "";
    [Id(1)] public decimal Spent { get; set; }
    [Id(2)] public decimal Committed { get; set; }
}
