using Gatehouse.Embeddings;

namespace Gatehouse.Providers;

/// <summary>One upstream's embeddings endpoint, behind Gatehouse's canonical model.</summary>
/// <remarks>
/// An adapter whose upstream serves embeddings implements this beside <see cref="IChatGateway"/> and returns itself
/// from <see cref="IChatGateway.GetService"/>, so the decorators around it (which forward <c>GetService</c>) expose
/// it too. The request's <see cref="EmbeddingRequest.Model"/> is the upstream model name. Failures are reported as
/// for chat: a <see cref="Errors.GatewayException"/> classified by <see cref="Errors.GatewayError"/>.
/// </remarks>
public interface IEmbeddingGateway
{
    Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default);
}
