using Gatehouse.Apps;
using Gatehouse.Embeddings;
using Gatehouse.Grains;

namespace Gatehouse.Gateway;

/// <summary>
/// The embeddings path behind every front end: it runs the <see cref="GatewayPipeline"/>'s stages on the silo that
/// received the request, after the caller was authenticated and authorized for an embeddings alias.
/// </summary>
/// <remarks>Thread-safe singleton. Failures surface as <see cref="Errors.GatewayException"/>.</remarks>
public sealed class EmbeddingPipeline(GatewayPipeline pipeline)
{
    public async Task<EmbeddingResponse> EmbedAsync(AppIdentity app, EmbeddingRequest request, CallOptions callOptions, CancellationToken cancellationToken)
    {
        var response = await pipeline.First.GetResponseAsync(pipeline.Start(app, request, callOptions), cancellationToken);
        return (EmbeddingResponse)response.Response;
    }
}
