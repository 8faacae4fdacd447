namespace Gatehouse.Grains;

/// <summary>The slots a holder now holds and for how long (renew before it runs out).</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.SlotGrant")]
public sealed record SlotGrant
{
    [Id(0)] public int Held { get; init; }
    [Id(1)] public TimeSpan ValidFor { get; init; }
    /// <summary>Null when the authority has no concurrency cap.</summary>
    [Id(2)] public int? Limit { get; init; }
    [Id(3)] public TimeSpan RetryAfter { get; init; }
    /// <summary>The <see cref="SlotRequest.Sequence"/> this answers: an answer older than one already applied is stale.</summary>
    [Id(4)] public long Sequence { get; init; }
}
