namespace Gatehouse.Budgets;

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
