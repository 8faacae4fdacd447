using System.Collections.Immutable;

namespace Gatehouse.Chat;

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
