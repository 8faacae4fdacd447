using Gatehouse.Chat;

namespace Gatehouse.Pipeline;

/// <summary>What a stage reads of a streamed answer as its chunks pass: the route (on the first chunk) and the last usage reported.</summary>
/// <remarks>A mutable struct: keep it in one local and call <see cref="Observe"/> on that local.</remarks>
public struct StreamedAnswer
{
    public RouteInfo? Route { get; private set; }

    public Usage? Reported { get; private set; }

    /// <summary>What the upstream billed for this caller so far (see <see cref="PipelineResponse.Billed"/>).</summary>
    public readonly Usage? Billed => PipelineResponse.BilledFor(Route, Reported);

    public void Observe(ChatChunk chunk)
    {
        Route ??= chunk.Route;
        Reported = chunk.Usage ?? Reported;
    }
}
