using System.Collections.Immutable;

namespace Gatehouse.Apps;

/// <summary>An application as its grain stores it: settings and keys (hashes only).</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.AppRecord")]
public sealed record AppRecord
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required AppSettings Settings { get; init; }
    [Id(2)] public ImmutableArray<AppKey> Keys { get; init; } = [];
    /// <summary>Bumped by every change: the admin API's PATCH writes only over the version it read.</summary>
    [Id(3)] public long Version { get; init; }
    /// <summary>Whether the config file names the app (its settings are re-seeded from the file at each start).</summary>
    [Id(4)] public bool FromConfig { get; init; }
    [Id(5)] public DateTimeOffset CreatedAt { get; init; }
}
