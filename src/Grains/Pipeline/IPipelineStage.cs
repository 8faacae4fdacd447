using Gatehouse.Chat;

namespace Gatehouse.Pipeline;

/// <summary>
/// One stage of the request path on the silo that received the request, before the grain hop: tracing, budget, app
/// quota, cache, and last the router (see <c>Gateway/GatewayPipeline</c> for the order).
/// </summary>
/// <remarks>
/// Shaped like <c>Microsoft.Extensions.AI.IChatClient</c>: a whole-answer method, a streaming method and
/// <see cref="GetService"/>, for every kind of request (<see cref="PipelineRequest.Request"/>); a stage that does not
/// handle a kind passes it on. A stage
/// wraps the next one (<see cref="DelegatingPipelineStage"/>) and may answer without calling it. Implementations are
/// thread-safe singletons; failures surface as <see cref="Errors.GatewayException"/>, caller cancellation as
/// <see cref="OperationCanceledException"/>.
/// </remarks>
public interface IPipelineStage
{
    /// <summary>The whole answer: a chat completion or the embeddings, as the request's kind.</summary>
    ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default);

    /// <summary>A chat answer as a stream; its first chunk carries the route.</summary>
    IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a service this stage or one it wraps provides (a stage itself, by its type), or null.</summary>
    object? GetService(Type serviceType, object? serviceKey = null);
}
