using System.Collections.Immutable;
using Gatehouse.Embeddings;

namespace Gatehouse.Grains;

/// <summary>
/// An embeddings cache shard (key: <see cref="GrainKeys.EmbeddingCacheShard"/>): it keeps the vectors whose input keys
/// fall in it, and is the single-flight point of the upstream calls whose flight key falls in it.
/// </summary>
/// <remarks>
/// Entries are per input, so an array request can be served partly from the cache: the caller looks its keys up, then
/// sends only the missing inputs as one flight. Identical flights arriving together (the same missing inputs) share one
/// upstream call; its vectors are stored in their own shards before any caller is answered. Failures are never stored.
/// </remarks>
[Alias("gatehouse.IEmbeddingCacheGrain")]
public interface IEmbeddingCacheGrain : IGrainWithStringKey
{
    /// <summary>The stored vector of each key, or null where there is none (or it expired).</summary>
    [Alias("Get")]
    Task<ImmutableArray<CachedEmbedding?>> GetAsync(ImmutableArray<string> keys);

    [Alias("Put")]
    Task PutAsync(ImmutableArray<CachedEmbeddingEntry> entries);

    /// <summary>
    /// The embeddings of <paramref name="call"/>'s inputs, computed once for every identical flight in progress; the
    /// vectors are stored under <paramref name="inputKeys"/> (one per input) unless the call says <c>no-store</c>.
    /// The answer's <see cref="Chat.RouteInfo.Cache"/> is <c>miss</c> for the caller that made the call, <c>shared</c> for those that joined it.
    /// </summary>
    [Alias("Flight")]
    Task<EmbeddingResponse> FlightAsync(string flightKey, ImmutableArray<string> inputKeys, RoutedCall call, EmbeddingRequest request, CancellationToken cancellationToken = default);
}
