namespace Gatehouse.Grains;

/// <summary>What every kind of request (chat, embeddings) has in common: the model alias it asks for.</summary>
public interface IModelRequest
{
    /// <summary>The model alias (before routing) or the upstream model (after).</summary>
    string Model { get; }
}
