namespace Gatehouse.Budgets;

/// <summary>
/// What a budget authority has handed out and what was spent, persisted before each grant takes effect (write-ahead),
/// so an activation that replaces it resumes exactly where it stopped and spend survives restarts.
/// </summary>
/// <remarks>Stored through Orleans grain storage; ids are append-only, like every wire type. Amounts in USD.</remarks>
[GenerateSerializer, Alias("gatehouse.BudgetRecord")]
internal sealed class BudgetRecord
{
    /// <summary>The record's name in grain storage.</summary>
    public const string StateName = "budget";

    [Id(0)] public BudgetPeriodRecord Day { get; set; } = new();
    [Id(1)] public BudgetPeriodRecord Month { get; set; } = new();
    /// <summary>Money granted to each holder and not yet settled, per day it was granted for.</summary>
    [Id(2)] public List<BudgetHolderRecord> Holders { get; set; } = [];
}
