using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers;

/// <summary>
/// Turns what went wrong during one upstream call into what the router needs to hear, the same way for every adapter:
/// the caller's cancellation stays a cancellation, the provider's timeout becomes <see cref="GatewayError.UpstreamTimeout"/>,
/// a transport failure <see cref="GatewayError.UpstreamFailed"/>; anything else is an unreadable answer. Each is logged once.
/// </summary>
internal sealed class UpstreamFailures(string providerName, TimeSpan timeout, ILogger logger)
{
    /// <param name="exception">What the call threw.</param>
    /// <param name="callTimeout">The call's timeout, to tell it from the caller's cancellation.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="classifyVendorError">The adapter's own classification of vendor exception types (HTTP errors, in-stream error events); null when it has none for this exception.</param>
    public Exception Translate(Exception exception, CallTimeout callTimeout, CancellationToken cancellationToken, Func<Exception, GatewayException?>? classifyVendorError = null)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            // The caller went away: not an upstream failure, and not for the router to fail over.
            return exception as OperationCanceledException ?? new OperationCanceledException(null, exception, cancellationToken);
        }

        if (callTimeout.TimedOut || exception is OperationCanceledException)
        {
            UpstreamLog.LogUpstreamTimeout(logger, providerName, timeout.TotalSeconds);
            return UpstreamErrors.Timeout(providerName, timeout);
        }

        if (classifyVendorError?.Invoke(exception) is { } vendorError)
        {
            UpstreamLog.LogUpstreamFailed(logger, providerName, vendorError.UpstreamStatus ?? 0, vendorError.Error);
            return vendorError;
        }

        if (UpstreamErrors.IsTransportFailure(exception))
        {
            UpstreamLog.LogUpstreamUnreachable(logger, providerName, exception);
            return UpstreamErrors.FromTransportFailure(providerName, exception);
        }

        // A payload that could not be parsed, or a pipeline failure without a transport cause.
        UpstreamLog.LogUpstreamMalformed(logger, providerName, exception);
        return UpstreamErrors.MalformedResponse(providerName);
    }
}
