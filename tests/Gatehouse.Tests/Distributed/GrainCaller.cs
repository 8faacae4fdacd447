using Gatehouse.Errors;
using Microsoft.Extensions.AI;

namespace Gatehouse.Tests.Distributed;

/// <summary>Calls through the Gatehouse grain client (<see cref="IChatClient"/>) and classifies how each call ended.</summary>
public static class GrainCaller
{
    public static async Task<CallOutcome> SendAsync(IChatClient chat, string path, string model, string prompt, float temperature, TimeSpan timeout)
    {
        var started = DateTimeOffset.UtcNow;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var response = await chat.GetResponseAsync(prompt, new ChatOptions { ModelId = model, Temperature = temperature }, deadline.Token);
            return new CallOutcome(path, started, watch.Elapsed, response.Text.Length > 0 ? CallKind.Ok : CallKind.FailedUnclearly, "answer");
        }
        catch (GatewayException ex) when (ex.Error == GatewayError.RateLimited)
        {
            return new CallOutcome(path, started, watch.Elapsed, CallKind.Refused, ex.Message);
        }
        catch (GatewayException ex) when (ex.Error is GatewayError.NoTargetAvailable or GatewayError.UpstreamTimeout)
        {
            return new CallOutcome(path, started, watch.Elapsed, CallKind.FailedClearly, $"{ex.Message} [{ex.InnerException?.Message}]");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return new CallOutcome(path, started, watch.Elapsed, CallKind.FailedUnclearly, $"no answer within {timeout}");
        }
        catch (Exception ex)
        {
            return new CallOutcome(path, started, watch.Elapsed, CallKind.FailedUnclearly, $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
