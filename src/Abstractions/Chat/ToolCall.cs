namespace Gatehouse.Chat;

/// <summary>A tool call made by the model; <see cref="ArgumentsJson"/> is the JSON text the model produced.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ToolCall")]
public sealed record ToolCall
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public string ArgumentsJson { get; init; } = "{}";
}
