namespace Gatehouse.Budgets;

/// <summary>Money one request has set aside from its silo's pool for an app, to be settled with what the call cost.</summary>
/// <param name="AppId">Null for an app without a budget: nothing was reserved and settling does nothing.</param>
/// <param name="Day">The UTC day the money was granted for.</param>
public sealed record BudgetReservation(string? AppId, string Day, decimal Estimate)
{
    public static readonly BudgetReservation None = new(null, "", 0);
}
