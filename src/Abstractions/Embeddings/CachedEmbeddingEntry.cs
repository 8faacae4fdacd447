namespace Gatehouse.Embeddings;

/// <summary>A vector to store under its key (<see cref="Grains.GrainKeys.EmbeddingCacheShard"/>).</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.CachedEmbeddingEntry")]
public sealed record CachedEmbeddingEntry(
    [property: Id(0)] string Key,
    [property: Id(1)] CachedEmbedding Embedding);
