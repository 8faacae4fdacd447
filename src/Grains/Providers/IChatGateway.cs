using Gatehouse.Chat;

namespace Gatehouse.Providers;

/// <summary>One upstream, behind Gatehouse's canonical model: the only interface the router talks to.</summary>
/// <remarks>
/// Shaped like <c>Microsoft.Extensions.AI.IChatClient</c>. The request's <see cref="ChatRequest.Model"/> is the
/// upstream model name. Implementations are thread-safe, enforce their provider's timeout, and report every
/// failure as a <see cref="Errors.GatewayException"/> classified by <see cref="Errors.GatewayError"/>
/// (caller cancellation is left as <see cref="OperationCanceledException"/>).
/// </remarks>
public interface IChatGateway
{
    Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default);

    IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a service the gateway or one it wraps provides, or null.</summary>
    object? GetService(Type serviceType, object? serviceKey = null);
}
