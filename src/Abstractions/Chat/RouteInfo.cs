namespace Gatehouse.Chat;

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
