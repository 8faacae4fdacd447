using System.Collections.Immutable;

namespace Gatehouse.Chat;

/// <summary>The canonical chat request every front end produces and every provider adapter consumes.</summary>
/// <remarks>
/// <see cref="Model"/> is the alias the caller asked for; the router rewrites it to the upstream model
/// before handing the request to an adapter. Immutable: safe to share between grains without copying.
/// </remarks>
[GenerateSerializer, Immutable, Alias("gatehouse.ChatRequest")]
public sealed record ChatRequest : Grains.IModelRequest
{
    [Id(0)] public required string Model { get; init; }
    [Id(1)] public required ImmutableArray<ChatMessage> Messages { get; init; }
    [Id(2)] public double? Temperature { get; init; }
    [Id(3)] public double? TopP { get; init; }
    [Id(4)] public int? MaxTokens { get; init; }
    [Id(5)] public ImmutableArray<string> Stop { get; init; } = [];
    [Id(6)] public long? Seed { get; init; }
    [Id(7)] public ResponseFormat? ResponseFormat { get; init; }
    [Id(8)] public ImmutableArray<ToolDefinition> Tools { get; init; } = [];
    [Id(9)] public ToolChoice? ToolChoice { get; init; }
    /// <summary>The caller's end-user id (OpenAI <c>user</c>); passed upstream, never part of a cache key.</summary>
    [Id(10)] public string? User { get; init; }
    /// <summary>Whether a streamed answer should end with a usage chunk (OpenAI <c>stream_options.include_usage</c>).</summary>
    [Id(11)] public bool IncludeUsage { get; init; }
    [Id(12)] public double? PresencePenalty { get; init; }
    [Id(13)] public double? FrequencyPenalty { get; init; }
    [Id(14)] public bool? ParallelToolCalls { get; init; }
}
