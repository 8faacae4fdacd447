using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Grains;

/// <summary>A whole answer from a cache shard: the chunks as recorded (usage included), how it was served, and how long the cache keeps it.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.CachedAnswer")]
public sealed record CachedAnswer
{
    [Id(0)] public required ImmutableArray<ChatChunk> Chunks { get; init; }
    /// <summary>hit, miss or shared (<see cref="CacheStatus"/>).</summary>
    [Id(1)] public required string Cache { get; init; }
    /// <summary>When the stored answer expires; null when the answer was not stored.</summary>
    [Id(2)] public DateTimeOffset? StoredUntil { get; init; }
}
