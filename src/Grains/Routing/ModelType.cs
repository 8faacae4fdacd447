namespace Gatehouse.Routing;

/// <summary>Which endpoint a model alias serves.</summary>
public enum ModelType
{
    /// <summary>Chat Completions, Messages, Responses and the grain client's chat.</summary>
    Chat = 0,

    /// <summary><c>POST /v1/embeddings</c> and the grain client's embeddings.</summary>
    Embeddings = 1,
}
