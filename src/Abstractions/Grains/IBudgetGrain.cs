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

/// <summary>A silo's settlements and, when <see cref="Needed"/> is above zero, its ask for money.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.BudgetLeaseRequest")]
public sealed record BudgetLeaseRequest
{
    /// <summary>The silo-local holder asking (one per silo process).</summary>
    [Id(0)] public required string HolderId { get; init; }
    /// <summary>USD the triggering request needs now; 0 to settle (or to say the holder is alive) only.</summary>
    [Id(1)] public decimal Needed { get; init; }
    /// <summary>USD the holder would like (≥ needed), sized from its recent demand.</summary>
    [Id(2)] public decimal Wanted { get; init; }
    /// <summary>What the holder spent and gives back of money granted to it, per UTC day it was granted for.</summary>
    [Id(3)] public IReadOnlyList<BudgetSettlement> Settlements { get; init; } = [];
}

/// <summary>Money granted for one UTC day: what calls actually cost, and what is given back unused.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.BudgetSettlement")]
public sealed record BudgetSettlement
{
    /// <summary>The UTC day of the grant, <c>yyyy-MM-dd</c> (the month is its first seven characters).</summary>
    [Id(0)] public required string Day { get; init; }
    [Id(1)] public decimal Spent { get; init; }
    [Id(2)] public decimal Released { get; init; }
}

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
