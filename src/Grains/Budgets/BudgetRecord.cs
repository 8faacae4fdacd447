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

/// <summary>One period (a UTC day or month): what calls cost, and what is committed (spent + granted, not yet settled).</summary>
[GenerateSerializer, Alias("gatehouse.BudgetPeriodRecord")]
internal sealed class BudgetPeriodRecord
{
    /// <summary><c>yyyy-MM-dd</c> or <c>yyyy-MM</c>; empty before the first grant.</summary>
    [Id(0)] public string Key { get; set; } = "";
    [Id(1)] public decimal Spent { get; set; }
    [Id(2)] public decimal Committed { get; set; }
}

/// <summary>Money one holder (silo) was granted for one day and has not settled yet (or was charged for), and when it was last heard from.</summary>
[GenerateSerializer, Alias("gatehouse.BudgetHolderRecord")]
internal sealed class BudgetHolderRecord
{
    [Id(0)] public string HolderId { get; set; } = "";
    [Id(1)] public string Day { get; set; } = "";
    [Id(2)] public decimal Outstanding { get; set; }
    [Id(3)] public long LastSeenTicks { get; set; }
    /// <summary>What was charged as spent when the holder fell silent: a settlement it sends after all corrects it.</summary>
    [Id(4)] public decimal Charged { get; set; }
}
