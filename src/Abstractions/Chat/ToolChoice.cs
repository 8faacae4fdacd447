namespace Gatehouse.Chat;

[GenerateSerializer, Immutable, Alias("gatehouse.ToolChoice")]
public sealed record ToolChoice
{
    [Id(0)] public required ToolChoiceMode Mode { get; init; }
    /// <summary>The function to call when <see cref="Mode"/> is <see cref="ToolChoiceMode.Function"/>.</summary>
    [Id(1)] public string? FunctionName { get; init; }
}
