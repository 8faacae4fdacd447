namespace Gatehouse.Grains;

/// <summary>
/// The cluster-wide authority for one app's budgets (per UTC day and per UTC month, in USD): it hands money to per-silo
/// holders in batches, debited up front, and takes back what they did not spend, so concurrent requests on every silo
/// cannot overspend (key: the app id, see <see cref="GrainKeys.Budget"/>).
/// </summary>
/// <remarks>Called when a silo's pool runs short and about once a second to settle, never per request.</remarks>
[Alias("gatehouse.IBudgetGrain")]
public interface IBudgetGrain : IGrainWithStringKey
{
    /// <summary>Applies the holder's settlements, then grants <see cref="BudgetLeaseRequest.Needed"/> (or more) unless the budget is spent.</summary>
    [Alias("Lease")]
    Task<BudgetLeaseGrant> LeaseAsync(BudgetLeaseRequest request);

    /// <summary>What the app has spent and has reserved in the current day and month.</summary>
    [Alias("GetSpend")]
    Task<BudgetSpend> GetSpendAsync();
}
