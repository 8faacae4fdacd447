namespace Gatehouse.Grains;

/// <summary>Capacity granted until the end of one slot, or a rejection with the time until capacity is expected.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.LeaseGrant")]
public sealed record LeaseGrant
{
    /// <summary>False when nothing was granted before the deadline; see <see cref="RetryAfter"/>.</summary>
    [Id(0)] public bool Granted { get; init; }
    /// <summary>The authority's clock (UTC ticks) at the grant (the next slot's start for a grant made for it): returned units are credited to that slot.</summary>
    [Id(1)] public long GrantedAtTicks { get; init; }
    [Id(2)] public int Requests { get; init; }
    [Id(3)] public int Tokens { get; init; }
    /// <summary>Time left in the slot when the authority answered; the holder measures it from before it sent the request.</summary>
    [Id(4)] public TimeSpan ValidFor { get; init; }
    /// <summary>Time until the needed units are expected to be grantable, when not granted.</summary>
    [Id(5)] public TimeSpan RetryAfter { get; init; }
    /// <summary>The configured per-minute limits (null = unlimited).</summary>
    [Id(6)] public int? RequestsLimit { get; init; }
    [Id(7)] public int? TokensLimit { get; init; }
    /// <summary>What is left of the limit over the last minute after this grant (granted batches count as used).</summary>
    [Id(8)] public int? RequestsRemaining { get; init; }
    [Id(9)] public int? TokensRemaining { get; init; }
    /// <summary>How long the request waited in the authority's queue: the holder adds it to its send time (both are durations, so clocks need not agree).</summary>
    [Id(10)] public TimeSpan Queued { get; init; }
}
