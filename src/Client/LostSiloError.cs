using Gatehouse.Errors;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Gatehouse.Client;

/// <summary>
/// Turns Orleans' report of a silo or gateway that went away during a call into the client's own error, so callers
/// handle one exception type: <see cref="GatewayError.NoTargetAvailable"/>, safe to retry.
/// </summary>
internal static class LostSiloError
{
    public static bool Matches(Exception exception) => exception is OrleansMessageRejectionException or ConnectionFailedException;

    public static GatewayException From(Exception exception) => new(
        GatewayError.NoTargetAvailable,
        $"The Gatehouse silo handling this call went away before it answered ({exception.GetType().Name}); retry the call: new calls go to the silos that remain.");
}
