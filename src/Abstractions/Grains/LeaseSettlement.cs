namespace Gatehouse.Grains;

/// <summary>Units handed back and token usage to debit.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.LeaseSettlement")]
public sealed record LeaseSettlement
{
    /// <summary><see cref="LeaseGrant.GrantedAtTicks"/> of the returned units: credited to that slot while it still counts (61 s).</summary>
    [Id(0)] public long GrantedAtTicks { get; init; }
    [Id(1)] public int RequestsReturned { get; init; }
    [Id(2)] public int TokensReturned { get; init; }
    /// <summary>Tokens used beyond what was leased (estimate too low): debited now; they count for the next minute like any other use.</summary>
    [Id(3)] public int TokensOwed { get; init; }
}
