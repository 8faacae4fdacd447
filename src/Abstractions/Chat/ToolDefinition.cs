namespace Gatehouse.Chat;

/// <summary>A function the model may call; <see cref="ParametersJson"/> is its JSON schema, verbatim.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ToolDefinition")]
public sealed record ToolDefinition
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public string? Description { get; init; }
    [Id(2)] public string? ParametersJson { get; init; }
    [Id(3)] public bool? Strict { get; init; }
}
