using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers;

/// <summary>The log messages every adapter writes about its upstream; failures only, never prompts, answers or keys.</summary>
/// <remarks>
/// Exceptions are logged as a redacted description (<see cref="UpstreamFailures.Describe"/>), not as objects: their
/// messages may quote the upstream, and a logged exception object would carry that text past the redactor.
/// </remarks>
internal static partial class UpstreamLog
{
    [LoggerMessage(EventId = GatehouseEventIds.UpstreamTimedOut, Level = LogLevel.Warning, Message = "Provider {ProviderName} did not answer within {TimeoutSeconds} s")]
    public static partial void LogUpstreamTimeout(ILogger logger, string providerName, double timeoutSeconds);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamFailed, Level = LogLevel.Warning, Message = "Provider {ProviderName} failed with HTTP {Status} ({Error})")]
    public static partial void LogUpstreamFailed(ILogger logger, string providerName, int status, GatewayError error);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamUnreachable, Level = LogLevel.Warning, Message = "Provider {ProviderName} could not be reached: {Detail}")]
    public static partial void LogUpstreamUnreachable(ILogger logger, string providerName, string detail);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamResponseUnreadable, Level = LogLevel.Warning, Message = "Provider {ProviderName} sent a response that could not be read: {Detail}")]
    public static partial void LogUpstreamMalformed(ILogger logger, string providerName, string detail);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamResponseTooLarge, Level = LogLevel.Warning, Message = "Provider {ProviderName} sent an answer larger than MaxResponseBytes ({LimitBytes} bytes)")]
    public static partial void LogUpstreamResponseTooLarge(ILogger logger, string providerName, long limitBytes);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamConnectionBroken, Level = LogLevel.Warning, Message = "The connection to provider {ProviderName} broke during the answer: {Detail}")]
    public static partial void LogUpstreamConnectionBroken(ILogger logger, string providerName, string detail);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamAnswerIncomplete, Level = LogLevel.Warning, Message = "Provider {ProviderName} sent an incomplete answer: {Reason}")]
    public static partial void LogUpstreamAnswerIncomplete(ILogger logger, string providerName, string reason);
}
