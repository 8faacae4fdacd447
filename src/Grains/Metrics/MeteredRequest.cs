using Gatehouse.Errors;

namespace Gatehouse.Metrics;

/// <summary>One caller's request as the request metrics see it: who asked, for which alias, how it ended and how long it took.</summary>
/// <remarks>
/// Made by a front end when the request arrives; the app and alias are filled in once they are known to be real (an
/// unauthenticated caller stays <c>unknown</c>, an unknown alias <c>other</c>), so the tags stay low-cardinality.
/// Not thread-safe: one request's handler uses it.
/// </remarks>
public sealed class MeteredRequest(GatehouseMetrics metrics, string api, TimeProvider timeProvider)
{
    private readonly long _started = timeProvider.GetTimestamp();
    private bool _firstSeen;
    private bool _ended;

    public string App { get; set; } = "unknown";

    public string Alias { get; set; } = "other";

    public string Outcome { get; private set; } = GatehouseMetrics.Ok;

    /// <summary>The first chunk of a stream went out: records the time to first token.</summary>
    public void FirstChunk()
    {
        if (!_firstSeen)
        {
            _firstSeen = true;
            metrics.FirstToken(App, Alias, api, timeProvider.GetElapsedTime(_started));
        }
    }

    public void Failed(GatewayError error) => Outcome = GatehouseMetrics.Outcome(error);

    /// <summary>Failed with <paramref name="error"/>: its kind, <c>canceled</c> when the caller went away, else <c>error</c>.</summary>
    public void Failed(Exception error, CancellationToken cancellationToken) => Outcome =
        error is GatewayException gateway ? GatehouseMetrics.Outcome(gateway.Error)
        : cancellationToken.IsCancellationRequested ? GatehouseMetrics.Outcome(GatewayError.Canceled)
        : "error";

    /// <summary>Counts the request with its outcome and duration (once).</summary>
    public void End()
    {
        if (!_ended)
        {
            _ended = true;
            metrics.Request(App, Alias, api, Outcome, timeProvider.GetElapsedTime(_started));
        }
    }
}
