using System.Collections.Immutable;

namespace Gatehouse.Chat;

/// <summary>One piece of a streamed answer.</summary>
/// <remarks>
/// A stream is a sequence of chunks: text and tool-call deltas, then one chunk with a
/// <see cref="FinishReason"/>, then (when the request asked for it) one chunk with only <see cref="Usage"/>.
/// The first chunk of a routed stream carries <see cref="Route"/>.
/// </remarks>
[GenerateSerializer, Immutable, Alias("gatehouse.ChatChunk")]
public sealed record ChatChunk
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Model { get; init; }
    /// <summary>Set on the first chunk of an assistant turn.</summary>
    [Id(2)] public ChatRole? Role { get; init; }
    [Id(3)] public string? TextDelta { get; init; }
    [Id(4)] public ImmutableArray<ToolCallDelta> ToolCallDeltas { get; init; } = [];
    [Id(5)] public FinishReason? FinishReason { get; init; }
    [Id(6)] public Usage? Usage { get; init; }
    [Id(7)] public long Created { get; init; }
    [Id(8)] public RouteInfo? Route { get; init; }
    [Id(9)] public string? SystemFingerprint { get; init; }
}
