using Gatehouse.Chat;

namespace Gatehouse.Providers;

/// <summary>Base class of the decorators that wrap an <see cref="IChatGateway"/>; forwards everything by default.</summary>
public abstract class DelegatingChatGateway(IChatGateway innerGateway) : IChatGateway
{
    protected IChatGateway InnerGateway { get; } = innerGateway;

    public virtual Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        InnerGateway.GetResponseAsync(request, cancellationToken);

    public virtual IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        InnerGateway.GetStreamingResponseAsync(request, cancellationToken);

    public virtual object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : InnerGateway.GetService(serviceType, serviceKey);
}
