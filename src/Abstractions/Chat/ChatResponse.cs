using System.Collections.Immutable;

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

/// <summary>A fragment of a streamed tool call: the first fragment of a call has its id and name.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ToolCallDelta")]
public sealed record ToolCallDelta
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public string? Id { get; init; }
    [Id(2)] public string? Name { get; init; }
    [Id(3)] public string? ArgumentsDelta { get; init; }
}

public enum FinishReason
{
    Stop = 0,
    Length = 1,
    ToolCalls = 2,
    ContentFilter = 3,
}

[GenerateSerializer, Immutable, Alias("gatehouse.Usage")]
public sealed record Usage
{
    [Id(0)] public int PromptTokens { get; init; }
    [Id(1)] public int CompletionTokens { get; init; }
    /// <summary>Of <see cref="PromptTokens"/>, those the upstream read from its own prompt cache (billed at a lower rate); 0 when it does not say.</summary>
    [Id(2)] public int CachedPromptTokens { get; init; }
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>How a request was answered: the provider and upstream model, and how many attempts it took.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.RouteInfo")]
public sealed record RouteInfo
{
    [Id(0)] public required string Provider { get; init; }
    [Id(1)] public required string Model { get; init; }
    [Id(2)] public int Attempts { get; init; } = 1;
    /// <summary>hit, miss, shared or bypass.</summary>
    [Id(3)] public string? Cache { get; init; }
    /// <summary>On a cache hit: when the stored answer stops being served (a near cache keeps it no longer).</summary>
    [Id(4)] public DateTimeOffset? CachedUntil { get; init; }
}
