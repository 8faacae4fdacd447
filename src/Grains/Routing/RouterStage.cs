using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Grains;
using Gatehouse.Pipeline;

namespace Gatehouse.Routing;

/// <summary>The last stage: hands the request to its alias's <see cref="IRouterGrain"/>, across the grain hop.</summary>
/// <remarks>The router grain is a stateless worker, so the call stays on this silo.</remarks>
public sealed class RouterStage(IGrainFactory grainFactory) : IPipelineStage
{
    public async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default) => request.Request switch
    {
        ChatRequest chat => new PipelineResponse(await Router(request).CompleteAsync(request.ToRoutedCall(), chat, cancellationToken)),
        EmbeddingRequest embedding => new PipelineResponse(await Router(request).EmbedAsync(request.ToRoutedCall(), embedding, cancellationToken)),
        _ => throw Unsupported(request),
    };

    public IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default) =>
        request.Request is ChatRequest chat
            ? Router(request).StreamAsync(request.ToRoutedCall(), chat, cancellationToken)
            : throw Unsupported(request);

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    private IRouterGrain Router(PipelineRequest request) => grainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Alias));

    private static NotSupportedException Unsupported(PipelineRequest request) =>
        new($"The router does not serve a {request.Request.GetType().Name} this way.");
}
