namespace Gatehouse.Routing.Invokers;

/// <summary>What a call asks of a target's adapter.</summary>
public enum UpstreamOperation
{
    /// <summary>A whole chat answer (<see cref="Chat.ChatResponse"/>).</summary>
    Complete = 0,
    /// <summary>A chat stream, opened up to its first chunk (<see cref="UpstreamStream"/>).</summary>
    Stream = 1,
    /// <summary>Embeddings (<see cref="Embeddings.EmbeddingResponse"/>).</summary>
    Embed = 2,
}
