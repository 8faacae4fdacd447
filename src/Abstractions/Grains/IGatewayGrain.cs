using Gatehouse.Chat;
using Gatehouse.Embeddings;

namespace Gatehouse.Grains;

/// <summary>The entry point for grain clients (<c>Gatehouse.Client</c>): authenticates the app key, then routes.</summary>
/// <remarks>A stateless worker (key <see cref="GrainKeys.Gateway"/>); the app key is hashed on the silo and never stored.</remarks>
[Alias("gatehouse.IGatewayGrain")]
public interface IGatewayGrain : IGrainWithIntegerKey
{
    [Alias("Complete")]
    Task<ChatResponse> CompleteAsync(string appKey, ChatRequest request, CancellationToken cancellationToken = default);

    [Alias("Stream")]
    IAsyncEnumerable<ChatChunk> StreamAsync(string appKey, ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>The embeddings of the request's inputs, from an alias of type <c>Embeddings</c>.</summary>
    [Alias("Embed")]
    Task<EmbeddingResponse> EmbedAsync(string appKey, EmbeddingRequest request, CancellationToken cancellationToken = default);

    /// <summary>The model aliases this app may use.</summary>
    [Alias("ListModels")]
    Task<IReadOnlyList<string>> ListModelsAsync(string appKey, CancellationToken cancellationToken = default);
}
