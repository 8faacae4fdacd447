using Gatehouse.Chat;
using Gatehouse.Embeddings;

namespace Gatehouse.Pipeline;

/// <summary>
/// A whole answer as it comes back through the stages: the kind-specific response, and what every stage reads of it
/// whatever the kind (the route and the usage).
/// </summary>
public sealed class PipelineResponse
{
    private static readonly Usage NothingBilled = new();

    public PipelineResponse(ChatResponse response)
        : this(response, response.Route, response.Usage)
    {
    }

    public PipelineResponse(EmbeddingResponse response)
        : this(response, response.Route, response.Usage)
    {
    }

    private PipelineResponse(object response, RouteInfo? route, Usage? usage) => (Response, Route, Usage) = (response, route, usage);

    /// <summary>The answer the caller gets: a <see cref="ChatResponse"/> or an <see cref="EmbeddingResponse"/>, as the request's kind.</summary>
    public object Response { get; }

    /// <summary>Which provider answered and how (<see cref="RouteInfo.Cache"/>: hit, miss, shared or bypass).</summary>
    public RouteInfo? Route { get; }

    /// <summary>The usage the answer reports.</summary>
    public Usage? Usage { get; }

    /// <summary>What the upstream billed for this caller: nothing when the answer came from the cache or another caller's call.</summary>
    public Usage? Billed => BilledFor(Route, Usage);

    /// <summary>What the upstream billed for a caller whose answer came by <paramref name="route"/> and reported <paramref name="reported"/>.</summary>
    public static Usage? BilledFor(RouteInfo? route, Usage? reported) =>
        route?.Cache is CacheStatus.Hit or CacheStatus.Shared ? NothingBilled : reported;
}
