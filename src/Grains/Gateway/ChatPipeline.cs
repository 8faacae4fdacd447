using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Grains;

namespace Gatehouse.Gateway;

/// <summary>
/// The one chat path behind every front end (OpenAI HTTP, Anthropic HTTP, Responses, grain clients): it runs the
/// <see cref="GatewayPipeline"/>'s stages on the silo that received the request, after the caller was authenticated and authorized.
/// </summary>
/// <remarks>Thread-safe singleton. Failures surface as <see cref="Errors.GatewayException"/>.</remarks>
public sealed class ChatPipeline(GatewayPipeline pipeline)
{
    public async Task<ChatResponse> CompleteAsync(AppIdentity app, ChatRequest request, CallOptions callOptions, CancellationToken cancellationToken)
    {
        var response = await pipeline.First.GetResponseAsync(pipeline.Start(app, request, callOptions), cancellationToken);
        return (ChatResponse)response.Response;
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(AppIdentity app, ChatRequest request, CallOptions callOptions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The request enters the stages (and its deadline starts) when the caller asks for the first chunk.
        await foreach (var chunk in pipeline.First.GetStreamingResponseAsync(pipeline.Start(app, request, callOptions), cancellationToken).WithCancellation(cancellationToken))
        {
            yield return chunk;
        }
    }
}
