namespace Gatehouse.Grains;

/// <summary>A silo's ask for a batch of capacity.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.LeaseRequest")]
public sealed record LeaseRequest
{
    /// <summary>The silo-local lease holder asking (one per silo process).</summary>
    [Id(0)] public required string HolderId { get; init; }
    /// <summary>The app the triggering request belongs to: equal-priority apps are served round-robin.</summary>
    [Id(1)] public required string AppId { get; init; }
    [Id(2)] public RequestPriority Priority { get; init; } = RequestPriority.Normal;
    /// <summary>Requests the triggering call needs now (0 or 1); the grant is all-or-nothing on the needed units.</summary>
    [Id(3)] public int RequestsNeeded { get; init; }
    [Id(4)] public int TokensNeeded { get; init; }
    /// <summary>The batch the holder would like (≥ needed), sized from its recent demand.</summary>
    [Id(5)] public int RequestsWanted { get; init; }
    [Id(6)] public int TokensWanted { get; init; }
    /// <summary>How long the authority may queue the request when the bucket is empty.</summary>
    [Id(7)] public TimeSpan MaxWait { get; init; }
    /// <summary>A slot with less time than this left is too short to use: the grant is made for the next slot instead (the holder's safety margin).</summary>
    [Id(8)] public TimeSpan MinValidity { get; init; }
    /// <summary>Requests and tokens the holder's callers are waiting for right now (this call included): the batch granted when others queue too.</summary>
    [Id(9)] public int RequestsWaiting { get; init; }
    [Id(10)] public int TokensWaiting { get; init; }
}
