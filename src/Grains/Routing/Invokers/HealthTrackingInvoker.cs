using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing.Invokers;

/// <summary>
/// Keeps this silo's view of the target's upstream (<see cref="UpstreamState"/>): counts the call in flight until it
/// ends (a stream: until the stream ends), and reports its outcome — a success with its latency (a stream's: to its
/// first chunk), an upstream fault towards the circuit, a rejection of the request as proof the upstream is up.
/// </summary>
internal sealed partial class HealthTrackingInvoker(ITargetInvoker inner, UpstreamState state, string provider, string model, ILogger logger, TimeProvider timeProvider)
    : DelegatingTargetInvoker(inner)
{
    /// <summary>Failures that count against an upstream's circuit. A 429 does not: the upstream is up, and buckets handle quota.</summary>
    public static bool IsUpstreamFault(GatewayError error) =>
        error is GatewayError.UpstreamFailed or GatewayError.UpstreamTimeout or GatewayError.UpstreamAuthFailed;

    public override async ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        state.CallStarted();
        var started = timeProvider.GetTimestamp();
        UpstreamAnswer answer;
        try
        {
            answer = await Inner.InvokeAsync(call, cancellationToken);
        }
        catch (GatewayException ex) when (!cancellationToken.IsCancellationRequested)
        {
            RecordOutcome(call.Call.Alias, ex);
            state.CallEnded();
            throw;
        }
        catch
        {
            state.CallEnded();
            throw;
        }

        state.RecordSuccess(timeProvider.GetElapsedTime(started));
        if (answer is UpstreamStream stream)
        {
            stream.OnEnded(_ =>
            {
                state.CallEnded();
                return ValueTask.CompletedTask;
            });
        }
        else
        {
            state.CallEnded();
        }

        return answer;
    }

    private void RecordOutcome(string alias, GatewayException ex)
    {
        if (IsUpstreamFault(ex.Error))
        {
            var wasClosed = state.Circuit == CircuitState.Closed;
            state.RecordFailure(ex.Error == GatewayError.UpstreamTimeout);
            LogAttemptFailed(alias, provider, model, ex.Error);
            if (wasClosed && state.Circuit == CircuitState.Open)
            {
                LogCircuitOpenedLocally(provider);
            }
        }
        else if (ex.Error != GatewayError.RateLimited)
        {
            // The upstream answered (it rejected the request): it is up, whatever the request's fault.
            state.RecordRejection();
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.AttemptFailed, Level = LogLevel.Warning, Message = "Model {Alias}: target {Provider}/{Model} failed with {Error}")]
    private partial void LogAttemptFailed(string alias, string provider, string model, GatewayError error);

    [LoggerMessage(EventId = GatehouseEventIds.CircuitOpenedLocally, Level = LogLevel.Warning, Message = "Provider {Provider}: too many consecutive failures on this silo; circuit opened here until the cluster decides")]
    private partial void LogCircuitOpenedLocally(string provider);
}
