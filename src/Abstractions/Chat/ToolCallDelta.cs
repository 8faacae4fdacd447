namespace Gatehouse.Chat;

/// <summary>A fragment of a streamed tool call: the first fragment of a call has its id and name.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ToolCallDelta")]
public sealed record ToolCallDelta
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public string? Id { get; init; }
    [Id(2)] public string? Name { get; init; }
    [Id(3)] public string? ArgumentsDelta { get; init; }
}
