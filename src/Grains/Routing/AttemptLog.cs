using Gatehouse.Errors;
using Gatehouse.Routing.Invokers;

namespace Gatehouse.Routing;

/// <summary>What one request tried: its attempts, the targets that failed and why, the targets skipped behind an open circuit.</summary>
/// <remarks>The two calls of a hedged pair may write to it at the same time.</remarks>
internal sealed class AttemptLog
{
    /// <summary>Numbers the request's upstream calls; the invokers count each admitted call.</summary>
    public AttemptCounter Counter { get; } = new();

    public int Attempts => Counter.Count;

    public List<Failure> Failures { get; } = [];

    public List<string> SkippedTargets { get; } = [];

    public void Failed(RouteTarget target, bool viaFallback, GatewayException error)
    {
        lock (Failures)
        {
            Failures.Add(new Failure(target, viaFallback, error));
        }
    }

    public void Skipped(RouteTarget target, bool viaFallback) =>
        SkippedTargets.Add($"{target.Provider}/{target.Model}{(viaFallback ? " (fallback)" : "")}");

    /// <summary>A target whose call failed, with the error it failed with in the end (after its retries).</summary>
    public sealed record Failure(RouteTarget Target, bool ViaFallback, GatewayException Error);
}
