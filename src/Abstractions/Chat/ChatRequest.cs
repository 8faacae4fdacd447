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

/// <summary>A message of the conversation.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ChatMessage")]
public sealed record ChatMessage
{
    [Id(0)] public required ChatRole Role { get; init; }
    [Id(1)] public ImmutableArray<ContentPart> Content { get; init; } = [];
    /// <summary>Tool calls requested by an assistant message.</summary>
    [Id(2)] public ImmutableArray<ToolCall> ToolCalls { get; init; } = [];
    /// <summary>For a <see cref="ChatRole.Tool"/> message: the id of the call this message answers.</summary>
    [Id(3)] public string? ToolCallId { get; init; }
    [Id(4)] public string? Name { get; init; }

    /// <summary>The concatenated text parts.</summary>
    public string Text => Content.Length switch
    {
        0 => string.Empty,
        1 => Content[0].Text ?? string.Empty,
        _ => string.Concat(Content.Select(p => p.Text)),
    };

    public static ChatMessage FromText(ChatRole role, string text) =>
        new() { Role = role, Content = [ContentPart.FromText(text)] };
}

public enum ChatRole
{
    System = 0,
    User = 1,
    Assistant = 2,
    Tool = 3,
}

public enum ContentPartKind
{
    Text = 0,
    ImageUrl = 1,
}

/// <summary>A part of a message's content: text, or an image given by URL (http(s) or a data: URI).</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ContentPart")]
public sealed record ContentPart
{
    [Id(0)] public required ContentPartKind Kind { get; init; }
    [Id(1)] public string? Text { get; init; }
    [Id(2)] public string? ImageUrl { get; init; }
    /// <summary>OpenAI's image <c>detail</c> (auto, low, high).</summary>
    [Id(3)] public string? ImageDetail { get; init; }

    public static ContentPart FromText(string text) => new() { Kind = ContentPartKind.Text, Text = text };
}

/// <summary>A function the model may call; <see cref="ParametersJson"/> is its JSON schema, verbatim.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ToolDefinition")]
public sealed record ToolDefinition
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public string? Description { get; init; }
    [Id(2)] public string? ParametersJson { get; init; }
    [Id(3)] public bool? Strict { get; init; }
}

public enum ToolChoiceMode
{
    Auto = 0,
    None = 1,
    Required = 2,
    Function = 3,
}

[GenerateSerializer, Immutable, Alias("gatehouse.ToolChoice")]
public sealed record ToolChoice
{
    [Id(0)] public required ToolChoiceMode Mode { get; init; }
    /// <summary>The function to call when <see cref="Mode"/> is <see cref="ToolChoiceMode.Function"/>.</summary>
    [Id(1)] public string? FunctionName { get; init; }
}

/// <summary>A tool call made by the model; <see cref="ArgumentsJson"/> is the JSON text the model produced.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ToolCall")]
public sealed record ToolCall
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public string ArgumentsJson { get; init; } = "{}";
}

public enum ResponseFormatKind
{
    Text = 0,
    JsonObject = 1,
    JsonSchema = 2,
}

[GenerateSerializer, Immutable, Alias("gatehouse.ResponseFormat")]
public sealed record ResponseFormat
{
    [Id(0)] public required ResponseFormatKind Kind { get; init; }
    [Id(1)] public string? SchemaName { get; init; }
    [Id(2)] public string? SchemaJson { get; init; }
    [Id(3)] public bool? Strict { get; init; }
}
