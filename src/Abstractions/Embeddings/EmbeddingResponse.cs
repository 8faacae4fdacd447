using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Embeddings;

/// <summary>The embeddings of a request's inputs, one vector per input in the inputs' order.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.EmbeddingResponse")]
public sealed record EmbeddingResponse
{
    /// <summary>The upstream model that answered.</summary>
    [Id(0)] public required string Model { get; init; }
    [Id(1)] public required ImmutableArray<float[]> Vectors { get; init; }
    /// <summary>What the upstream billed: input tokens only (<see cref="Usage.CompletionTokens"/> is 0).</summary>
    [Id(2)] public Usage? Usage { get; init; }
    /// <summary>Which provider answered and how; filled in by the router.</summary>
    [Id(3)] public RouteInfo? Route { get; init; }
}
