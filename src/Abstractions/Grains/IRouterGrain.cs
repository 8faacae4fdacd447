using Gatehouse.Chat;
using Gatehouse.Embeddings;

namespace Gatehouse.Grains;

/// <summary>Routes requests for one model alias to its targets and fallbacks (key: the alias, see <see cref="GrainKeys"/>).</summary>
/// <remarks>
/// A stateless worker: every silo has its own activations, so routing never funnels the cluster's
/// traffic through one activation. Callers must have authenticated and authorized the app already.
/// Failures surface as <see cref="Errors.GatewayException"/>.
/// </remarks>
[Alias("gatehouse.IRouterGrain")]
public interface IRouterGrain : IGrainWithStringKey
{
    [Alias("Complete")]
    Task<ChatResponse> CompleteAsync(RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>Streams the answer; fails over only before the first chunk is yielded.</summary>
    [Alias("Stream")]
    IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>The embeddings of <paramref name="request"/>'s inputs, from the alias's embeddings targets.</summary>
    [Alias("Embed")]
    Task<EmbeddingResponse> EmbedAsync(RoutedCall call, EmbeddingRequest request, CancellationToken cancellationToken = default);
}
