using Gatehouse.Chat;

namespace Gatehouse.Pipeline;

/// <summary>Base class of the stages that wrap the next one (<c>DelegatingChatClient</c>'s shape); forwards everything by default.</summary>
public abstract class DelegatingPipelineStage(IPipelineStage innerStage) : IPipelineStage
{
    /// <summary>The next stage: the one this stage was added before in the <see cref="PipelineBuilder"/>.</summary>
    protected IPipelineStage InnerStage { get; } = innerStage ?? throw new ArgumentNullException(nameof(innerStage));

    public virtual ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default) =>
        InnerStage.GetResponseAsync(request, cancellationToken);

    public virtual IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default) =>
        InnerStage.GetStreamingResponseAsync(request, cancellationToken);

    public virtual object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : InnerStage.GetService(serviceType, serviceKey);
}
