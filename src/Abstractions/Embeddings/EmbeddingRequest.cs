using System.Collections.Immutable;

namespace Gatehouse.Embeddings;

/// <summary>A request for the embeddings of one or more texts: OpenAI's Embeddings API, in Gatehouse's canonical form.</summary>
/// <remarks>
/// <see cref="Model"/> is the alias as the caller sent it; the router replaces it with the target's upstream model.
/// The vectors come back in the order of <see cref="Inputs"/>.
/// </remarks>
[GenerateSerializer, Immutable, Alias("gatehouse.EmbeddingRequest")]
public sealed record EmbeddingRequest : Grains.IModelRequest
{
    [Id(0)] public required string Model { get; init; }
    /// <summary>The texts to embed, at least one.</summary>
    [Id(1)] public required ImmutableArray<string> Inputs { get; init; }
    /// <summary>The length the vectors are cut to, for models that support it; null for the model's own.</summary>
    [Id(2)] public int? Dimensions { get; init; }
    /// <summary>The end user the caller names (OpenAI's <c>user</c>), passed on to upstreams that take it.</summary>
    [Id(3)] public string? User { get; init; }
}
