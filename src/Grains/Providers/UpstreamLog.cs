using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers;

/// <summary>The log messages every adapter writes about its upstream; failures only, never prompts, answers or keys.</summary>
internal static partial class UpstreamLog
{
    [LoggerMessage(EventId = GatehouseEventIds.UpstreamTimedOut, Level = LogLevel.Warning, Message = "Provider {ProviderName} did not answer within {TimeoutSeconds} s")]
    public static partial void LogUpstreamTimeout(ILogger logger, string providerName, double timeoutSeconds);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamFailed, Level = LogLevel.Warning, Message = "Provider {ProviderName} failed with HTTP {Status} ({Error})")]
    public static partial void LogUpstreamFailed(ILogger logger, string providerName, int status, GatewayError error);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamUnreachable, Level = LogLevel.Warning, Message = "Provider {ProviderName} could not be reached")]
    public static partial void LogUpstreamUnreachable(ILogger logger, string providerName, Exception exception);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamResponseUnreadable, Level = LogLevel.Warning, Message = "Provider {ProviderName} sent a response that could not be read")]
    public static partial void LogUpstreamMalformed(ILogger logger, string providerName, Exception exception);
}
