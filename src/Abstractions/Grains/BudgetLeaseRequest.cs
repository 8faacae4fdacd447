namespace Gatehouse.Grains;

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
