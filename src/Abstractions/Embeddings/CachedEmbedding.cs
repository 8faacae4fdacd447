namespace Gatehouse.Embeddings;

/// <summary>One input's vector as the cache keeps it, with the target that computed it.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.CachedEmbedding")]
public sealed record CachedEmbedding
{
    [Id(0)] public required float[] Vector { get; init; }
    [Id(1)] public required string Provider { get; init; }
    /// <summary>The upstream model that computed it.</summary>
    [Id(2)] public required string Model { get; init; }
    [Id(3)] public DateTimeOffset ExpiresAt { get; init; }
}
