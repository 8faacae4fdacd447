using Gatehouse.Embeddings;

namespace Gatehouse.Caching;

/// <summary>An input's vector in the silo's <see cref="ResponseStore"/>.</summary>
public sealed class StoredEmbedding(CachedEmbedding embedding) : IStoredEntry
{
    private const int OverheadBytes = 160;

    public CachedEmbedding Embedding { get; } = embedding;

    public DateTimeOffset ExpiresAt => Embedding.ExpiresAt;

    public long Bytes { get; } = OverheadBytes + 4L * embedding.Vector.Length + 2L * (embedding.Provider.Length + embedding.Model.Length);
}
