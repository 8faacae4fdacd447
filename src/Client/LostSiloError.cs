using Gatehouse.Errors;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Gatehouse.Client;

/// <summary>
/// Turns Orleans' report of a silo or gateway that went away during a call into the client's own error, so callers
/// handle one exception type: <see cref="GatewayError.NoTargetAvailable"/> (safe to retry) or, when no answer came
/// within the call timeout, <see cref="GatewayError.UpstreamTimeout"/>.
/// </summary>
internal static class LostSiloError
{
    public static bool Matches(Exception exception) => exception is OrleansMessageRejectionException or ConnectionFailedException or TimeoutException;

    public static GatewayException From(Exception exception) => exception is TimeoutException
        // Orleans' client does not break calls on a gateway connection that is lost: they end at the call timeout.
        ? new(GatewayError.UpstreamTimeout,
            "No answer from the Gatehouse cluster within the client's CallTimeout; the silo handling the call may have gone away. New calls go to the silos that remain.",
            exception)
        : new(GatewayError.NoTargetAvailable,
            $"The Gatehouse silo handling this call went away before it answered ({exception.GetType().Name}); retry the call: new calls go to the silos that remain.",
            exception);
}
