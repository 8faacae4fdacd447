using System.Text;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers;

/// <summary>
/// Turns what went wrong during one upstream call into what the router needs to hear, the same way for every adapter:
/// the caller's cancellation stays a cancellation, the provider's timeout becomes <see cref="GatewayError.UpstreamTimeout"/>,
/// an answer over the size limit, a connection that broke during the answer, a connection that never opened and an
/// answer that ended early or is no answer at all become <see cref="GatewayError.UpstreamFailed"/>, each with a message
/// that says which. Each is logged once, with upstream text redacted.
/// </summary>
internal sealed class UpstreamFailures(string providerName, TimeSpan timeout, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>The redactor for upstream text of this provider's calls.</summary>
    public UpstreamRedactor Redactor => redactor;

    /// <param name="exception">What the call threw.</param>
    /// <param name="callTimeout">The call's timeout and the caller's token, to tell the one from the other.</param>
    /// <param name="classifyVendorError">The adapter's own classification of vendor exception types (HTTP errors, in-stream error events); null when it has none for this exception.</param>
    /// <param name="answerStarted">Whether the upstream's response headers had arrived, so a transport failure broke an answer rather than a connection attempt.</param>
    public Exception Translate(
        Exception exception, CallTimeout callTimeout, Func<Exception, GatewayException?>? classifyVendorError = null, bool answerStarted = false)
    {
        if (callTimeout.CallerToken.IsCancellationRequested)
        {
            // The caller went away: not an upstream failure, and not for the router to fail over.
            return exception as OperationCanceledException ?? new OperationCanceledException(null, exception, callTimeout.CallerToken);
        }

        if (callTimeout.TimedOut || exception is OperationCanceledException)
        {
            UpstreamLog.LogUpstreamTimeout(logger, providerName, timeout.TotalSeconds);
            return UpstreamErrors.Timeout(providerName, timeout);
        }

        // Before the vendor's classification: SDKs wrap a failed read in their own I/O exception types.
        if (UpstreamAnswerException.Find(exception) is { } answer)
        {
            if (answer.LimitBytes is { } limit)
            {
                UpstreamLog.LogUpstreamResponseTooLarge(logger, providerName, limit);
                return UpstreamErrors.ResponseTooLarge(providerName, limit);
            }

            UpstreamLog.LogUpstreamConnectionBroken(logger, providerName, Describe(exception));
            return UpstreamErrors.ConnectionBroken(providerName);
        }

        if (classifyVendorError?.Invoke(exception) is { } vendorError)
        {
            UpstreamLog.LogUpstreamFailed(logger, providerName, vendorError.UpstreamStatus ?? 0, vendorError.Error);
            return vendorError;
        }

        if (UpstreamErrors.IsTransportFailure(exception))
        {
            if (answerStarted)
            {
                UpstreamLog.LogUpstreamConnectionBroken(logger, providerName, Describe(exception));
                return UpstreamErrors.ConnectionBroken(providerName);
            }

            UpstreamLog.LogUpstreamUnreachable(logger, providerName, Describe(exception));
            return UpstreamErrors.FromTransportFailure(providerName, exception);
        }

        // A payload that could not be parsed, or a pipeline failure without a transport cause.
        return Malformed(Describe(exception));
    }

    /// <summary>The failure for an upstream that answered with a non-success HTTP status (<see cref="UpstreamErrors.FromHttpStatus"/>); logged.</summary>
    /// <param name="status">The upstream's HTTP status.</param>
    /// <param name="body">The (start of the) response body, when it could be read.</param>
    /// <param name="retryAfter">The <c>retry-after</c> header: seconds or an HTTP date.</param>
    /// <param name="retryAfterMs">The <c>retry-after-ms</c> header (OpenAI): milliseconds.</param>
    public GatewayException FromHttpStatus(int status, string? body, string? retryAfter, string? retryAfterMs = null)
    {
        var error = ClassifyStatus(status, body, retryAfter, retryAfterMs);
        UpstreamLog.LogUpstreamFailed(logger, providerName, status, error.Error);
        return error;
    }

    /// <summary>
    /// <see cref="FromHttpStatus"/> without the log line: for an adapter's <c>classifyVendorError</c> (<see cref="Translate"/>
    /// logs what it returns) or its own classification, which logs.
    /// </summary>
    public GatewayException ClassifyStatus(int status, string? body, string? retryAfter, string? retryAfterMs = null) =>
        UpstreamErrors.FromHttpStatus(providerName, status, body, retryAfter, retryAfterMs, timeProvider.GetUtcNow(), redactor);

    /// <summary>The failure for a stream that ended cleanly before its closing event; logged.</summary>
    public GatewayException EndedBeforeFinalEvent()
    {
        UpstreamLog.LogUpstreamAnswerIncomplete(logger, providerName, "the stream ended before its final event");
        return UpstreamErrors.EndedBeforeFinalEvent(providerName);
    }

    /// <summary>The failure for an answer that arrived whole but is not one (<paramref name="reason"/> says why, e.g. no finish reason); logged.</summary>
    public GatewayException Incomplete(string reason)
    {
        UpstreamLog.LogUpstreamAnswerIncomplete(logger, providerName, reason);
        return UpstreamErrors.MalformedResponse(providerName);
    }

    /// <summary>The failure for an answer that could not be read (<paramref name="detail"/> says how, for the log); logged.</summary>
    public GatewayException Malformed(string detail)
    {
        UpstreamLog.LogUpstreamMalformed(logger, providerName, detail);
        return UpstreamErrors.MalformedResponse(providerName);
    }

    /// <summary>The failure for a 200 answer to a streaming request that is not a stream; logged.</summary>
    public GatewayException NotAStream(string? contentType, string? body)
    {
        var error = UpstreamErrors.NotAStream(providerName, contentType, body, redactor);
        if (error.UpstreamStatus is { } status)
        {
            UpstreamLog.LogUpstreamFailed(logger, providerName, status, error.Error);
        }
        else
        {
            UpstreamLog.LogUpstreamAnswerIncomplete(logger, providerName, "a streaming request was answered without a stream");
        }

        return error;
    }

    /// <summary>The failure for an error an upstream reported in an answer that started with 200; logged.</summary>
    public GatewayException FromStreamError(string? body)
    {
        var error = UpstreamErrors.FromStreamError(providerName, body, redactor);
        UpstreamLog.LogUpstreamFailed(logger, providerName, error.UpstreamStatus ?? 0, error.Error);
        return error;
    }

    /// <summary>The exception chain as "Type: message; Type: message", redacted: fit for a log line.</summary>
    public string Describe(Exception exception)
    {
        var text = new StringBuilder();
        var depth = 0;
        for (var e = exception; e is not null && depth < 4; e = e.InnerException, depth++)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append(e.GetType().Name).Append(": ").Append(e.Message);
        }

        return redactor.Redact(text.ToString()) ?? string.Empty;
    }
}
