using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>The error of a request whose every target failed or was skipped: its kind, and a message naming what was tried and why each failed.</summary>
internal static partial class ExhaustedRouteError
{
    /// <summary>The error for <paramref name="alias"/> after <paramref name="log"/>'s attempts; logs the exhaustion.</summary>
    public static GatewayException Create(string alias, AttemptLog log, ILogger logger)
    {
        var failures = log.Failures;
        var skipped = log.SkippedTargets.Count == 0
            ? ""
            : $"{(failures.Count == 0 ? "" : " ")}Skipped (circuit open): {string.Join(", ", log.SkippedTargets.Distinct())}.";
        if (failures.Count == 0)
        {
            if (log.SkippedTargets.Count > 0)
            {
                LogAllCircuitsOpen(logger, alias);
                return new GatewayException(
                    GatewayError.NoTargetAvailable, $"No target of model '{alias}' is available: all circuits are open. {skipped}".TrimEnd());
            }

            return new GatewayException(GatewayError.NoTargetAvailable, $"No target of model '{alias}' is available.");
        }

        var tried = string.Join("; ", failures.Select(f => $"{f.Target.Provider}/{f.Target.Model}{(f.ViaFallback ? " (fallback)" : "")}: {Describe(f.Error)}"));
        LogAllTargetsFailed(logger, alias, log.Attempts);

        if (failures.TrueForAll(f => f.Error.Error == GatewayError.UpstreamTimeout))
        {
            return new GatewayException(GatewayError.UpstreamTimeout, $"Every target of model '{alias}' timed out. Tried: {tried}.{skipped}");
        }

        if (failures.TrueForAll(f => f.Error.Error == GatewayError.RateLimited))
        {
            var retryAfter = failures.Min(f => f.Error.RetryAfter);
            return new GatewayException(GatewayError.RateLimited, $"Every target of model '{alias}' is rate limited. Tried: {tried}.{skipped}", retryAfter: retryAfter);
        }

        if (failures.TrueForAll(f => f.Error.UpstreamStatus is 503 or 529))
        {
            return new GatewayException(GatewayError.NoTargetAvailable, $"Every target of model '{alias}' is overloaded or unavailable. Tried: {tried}.{skipped}");
        }

        return new GatewayException(GatewayError.UpstreamFailed, $"Every target of model '{alias}' failed. Tried: {tried}.{skipped}");
    }

    private static string Describe(GatewayException error) => error.Error switch
    {
        GatewayError.UpstreamTimeout => "timed out",
        GatewayError.RateLimited => "rate limited",
        GatewayError.UpstreamAuthFailed => $"rejected the gateway's credentials{Status(error)}",
        GatewayError.ContextLengthExceeded => "prompt longer than its context window",
        // Without an upstream status the adapter itself saw what went wrong (a connection that broke, an answer over
        // its size limit or cut short); its message says which, and carries nothing from the upstream.
        GatewayError.UpstreamFailed when error.UpstreamStatus is null => $"failed: {error.Message}",
        _ => $"failed{Status(error)}",
    };

    private static string Status(GatewayException error) => error.UpstreamStatus is { } status ? $" (HTTP {status})" : "";

    [LoggerMessage(EventId = GatehouseEventIds.AllTargetsFailed, Level = LogLevel.Warning, Message = "Model {Alias}: all {Attempts} attempts failed")]
    private static partial void LogAllTargetsFailed(ILogger logger, string alias, int attempts);

    [LoggerMessage(EventId = GatehouseEventIds.AllCircuitsOpen, Level = LogLevel.Warning, Message = "Model {Alias}: every target's circuit is open and none recovers within the request's wait")]
    private static partial void LogAllCircuitsOpen(ILogger logger, string alias);
}
