using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Providers;

namespace Gatehouse.Routing.Invokers;

/// <summary>The innermost link: the target's adapter, called with the request under the target's upstream model name.</summary>
internal sealed class AdapterInvoker(IChatGateway gateway, string provider, string model) : ITargetInvoker
{
    public async ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        switch (call.Operation)
        {
            case UpstreamOperation.Stream:
                return await UpstreamStream.OpenAsync(
                    gateway.GetStreamingResponseAsync((ChatRequest)call.Request with { Model = model }, cancellationToken), model, cancellationToken);
            case UpstreamOperation.Embed:
                // A target whose adapter serves no embeddings is a configuration the validator refuses.
                var embeddings = gateway.GetService(typeof(IEmbeddingGateway)) as IEmbeddingGateway
                    ?? throw new GatewayException(GatewayError.InvalidRequest, $"The provider '{provider}' does not serve embeddings.", "model");
                var embedded = await embeddings.EmbedAsync((EmbeddingRequest)call.Request with { Model = model }, cancellationToken);
                return new WholeAnswer<EmbeddingResponse>(embedded, embedded.Model, embedded.Usage);
            default:
                var response = await gateway.GetResponseAsync((ChatRequest)call.Request with { Model = model }, cancellationToken);
                return new WholeAnswer<ChatResponse>(response, response.Model, response.Usage);
        }
    }
}
