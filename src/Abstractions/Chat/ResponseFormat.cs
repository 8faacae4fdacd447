namespace Gatehouse.Chat;

[GenerateSerializer, Immutable, Alias("gatehouse.ResponseFormat")]
public sealed record ResponseFormat
{
    [Id(0)] public required ResponseFormatKind Kind { get; init; }
    [Id(1)] public string? SchemaName { get; init; }
    [Id(2)] public string? SchemaJson { get; init; }
    [Id(3)] public bool? Strict { get; init; }
}
