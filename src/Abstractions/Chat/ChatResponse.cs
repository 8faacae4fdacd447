namespace Gatehouse.Chat;

/// <summary>A complete (non-streamed) answer.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ChatResponse")]
public sealed record ChatResponse
{
    /// <summary>The id of the completion (the upstream's when it gave one).</summary>
    [Id(0)] public required string Id { get; init; }
    /// <summary>The upstream model that answered.</summary>
    [Id(1)] public required string Model { get; init; }
    [Id(2)] public required ChatMessage Message { get; init; }
    [Id(3)] public FinishReason FinishReason { get; init; }
    [Id(4)] public Usage? Usage { get; init; }
    /// <summary>Unix seconds at which the answer was created.</summary>
    [Id(5)] public long Created { get; init; }
    [Id(6)] public string? SystemFingerprint { get; init; }
    /// <summary>Which provider answered and how; filled in by the router.</summary>
    [Id(7)] public RouteInfo? Route { get; init; }
}
