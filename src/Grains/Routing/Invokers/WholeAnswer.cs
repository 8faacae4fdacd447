using Gatehouse.Chat;

namespace Gatehouse.Routing.Invokers;

/// <summary>An answer that arrived whole: a <see cref="ChatResponse"/> or an <see cref="Embeddings.EmbeddingResponse"/>.</summary>
public sealed class WholeAnswer<TResponse>(TResponse response, string model, Usage? usage) : UpstreamAnswer
{
    public TResponse Response { get; } = response;

    public override string Model { get; } = model;

    public override Usage? Usage { get; } = usage;
}
