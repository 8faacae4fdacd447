using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Gatehouse.Errors;

namespace Gatehouse.Providers;

/// <summary>Classifies an upstream's failure into a <see cref="GatewayException"/>; shared by every provider adapter.</summary>
/// <remarks>
/// Messages name the provider and the upstream status and never hold a secret: the upstream's own message is passed
/// on only for requests it rejected as invalid (it describes the caller's request), never for auth failures, where
/// vendors echo part of the key; and what is passed on (message and param) goes through an <see cref="UpstreamRedactor"/>
/// first, because an upstream may quote the request's headers back.
/// </remarks>
public static class UpstreamErrors
{
    /// <summary>The most of an error body that is parsed; error envelopes are small, anything larger is not one.</summary>
    private const int MaxErrorBodyChars = 64 * 1024;

    /// <summary>Builds the exception for an upstream that answered with a non-success HTTP status.</summary>
    /// <param name="providerName">The configured provider name (never its key).</param>
    /// <param name="status">The upstream's HTTP status.</param>
    /// <param name="body">The upstream's response body, when it could be read.</param>
    /// <param name="retryAfter">The <c>retry-after</c> header: seconds or an HTTP date.</param>
    /// <param name="retryAfterMs">The <c>retry-after-ms</c> header (OpenAI): milliseconds.</param>
    /// <param name="now">The current time, to resolve an HTTP-date <paramref name="retryAfter"/>; the system clock when null.</param>
    /// <param name="redactor">Removes credentials from the upstream text passed on; the patterns only when null.</param>
    public static GatewayException FromHttpStatus(
        string providerName, int status, string? body, string? retryAfter = null, string? retryAfterMs = null, DateTimeOffset? now = null,
        UpstreamRedactor? redactor = null)
    {
        var detail = Redacted(ParseErrorBody(body), redactor ?? UpstreamRedactor.PatternsOnly);
        switch (status)
        {
            case 429:
                return new GatewayException(
                    GatewayError.RateLimited,
                    $"provider '{providerName}' is rate limiting the gateway (HTTP 429)",
                    retryAfter: ParseRetryAfter(retryAfter, retryAfterMs, now ?? TimeProvider.System.GetUtcNow()),
                    upstreamStatus: status);
            case 401 or 403:
                return new GatewayException(
                    GatewayError.UpstreamAuthFailed,
                    $"provider '{providerName}' rejected the gateway's credentials (HTTP {status})",
                    upstreamStatus: status);
            case 400 or 404 or 413 or 422:
                if (IsContextLengthExceeded(detail))
                {
                    return new GatewayException(
                        GatewayError.ContextLengthExceeded,
                        detail.Message ?? $"the prompt is longer than the context window of provider '{providerName}' (HTTP {status})",
                        param: detail.Param ?? "messages",
                        upstreamStatus: status);
                }

                return new GatewayException(
                    GatewayError.InvalidRequest,
                    detail.Message is { } message
                        ? $"provider '{providerName}' rejected the request (HTTP {status}): {message}"
                        : $"provider '{providerName}' rejected the request (HTTP {status})",
                    param: detail.Param,
                    upstreamStatus: status);
            default:
                // 408, 409, 5xx, 529 (overloaded) and anything unexpected: the upstream could not serve a request that
                // another target may well serve, so it is the retryable class.
                return new GatewayException(
                    GatewayError.UpstreamFailed,
                    $"provider '{providerName}' failed (HTTP {status})",
                    retryAfter: status is 503 or 529 ? ParseRetryAfter(retryAfter, retryAfterMs, now ?? TimeProvider.System.GetUtcNow()) : null,
                    upstreamStatus: status);
        }
    }

    /// <summary>
    /// Builds the exception for an error an upstream reported inside a stream that had already started with HTTP 200
    /// (Anthropic's <c>event: error</c>, an OpenAI-compatible server's <c>data: {"error":…}</c>): the error's
    /// <c>type</c> stands in for the status the upstream would have answered with.
    /// </summary>
    public static GatewayException FromStreamError(string providerName, string? body, UpstreamRedactor? redactor = null) =>
        FromHttpStatus(providerName, StatusForErrorType(ParseErrorBody(body).Type), body, redactor: redactor);

    /// <summary>
    /// Builds the exception for a 200 answer to a streaming request that is not a stream (JSON, HTML, text): the error
    /// it carries when it is an error envelope, classified as <see cref="FromStreamError"/> does; an upstream failure otherwise.
    /// </summary>
    /// <param name="providerName">The configured provider name.</param>
    /// <param name="contentType">The answer's media type, e.g. <c>application/json</c>.</param>
    /// <param name="body">The start of the answer's body, when it could be read.</param>
    /// <param name="redactor">Removes credentials from the upstream text passed on.</param>
    public static GatewayException NotAStream(string providerName, string? contentType, string? body, UpstreamRedactor? redactor = null) =>
        IsErrorEnvelope(body)
            ? FromStreamError(providerName, body, redactor)
            : new GatewayException(
                GatewayError.UpstreamFailed,
                $"provider '{providerName}' answered a streaming request with '{SafeMediaType(contentType)}' instead of a stream");

    /// <summary>Builds the exception for a stream that ended, without an error, before the event that closes it.</summary>
    public static GatewayException EndedBeforeFinalEvent(string providerName) =>
        new(GatewayError.UpstreamFailed, $"provider '{providerName}' ended the stream before its final event");

    /// <summary>Builds the exception for an answer that did not fit in the provider's <c>MaxResponseBytes</c>.</summary>
    public static GatewayException ResponseTooLarge(string providerName, long limitBytes) =>
        new(GatewayError.UpstreamFailed,
            string.Create(CultureInfo.InvariantCulture,
                $"provider '{providerName}' sent an answer larger than {limitBytes} bytes (Gatehouse:Providers:{providerName}:MaxResponseBytes)"));

    /// <summary>Builds the exception for a connection that broke while the answer was being read (a reset, a truncated body).</summary>
    public static GatewayException ConnectionBroken(string providerName) =>
        new(GatewayError.UpstreamFailed, $"the connection to provider '{providerName}' broke during the answer");

    /// <summary>Whether <paramref name="body"/> is an error envelope of any vendor's shape (see <see cref="ParseErrorBody"/>).</summary>
    public static bool IsErrorEnvelope(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.Length > MaxErrorBodyChars)
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind is JsonValueKind.Object or JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The HTTP status a vendor's error <c>type</c> stands for (Anthropic's documented types, OpenAI's where they
    /// differ); 500 for a type the gateway does not know, which keeps it in the retryable class.
    /// </summary>
    public static int StatusForErrorType(string? type) => type switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" or "rate_limit_exceeded" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };

    /// <summary>Builds the exception for an upstream that could not be reached or broke the connection.</summary>
    public static GatewayException FromTransportFailure(string providerName, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new GatewayException(GatewayError.UpstreamFailed, $"could not connect to provider '{providerName}'");
    }

    /// <summary>Builds the exception for an upstream call that outlived the provider's timeout.</summary>
    public static GatewayException Timeout(string providerName, TimeSpan timeout) =>
        new(GatewayError.UpstreamTimeout,
            $"provider '{providerName}' did not answer within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");

    /// <summary>Builds the exception for an upstream answer that could not be understood.</summary>
    public static GatewayException MalformedResponse(string providerName) =>
        new(GatewayError.UpstreamFailed, $"provider '{providerName}' sent a response the gateway could not read");

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is a connection-level failure.</summary>
    public static bool IsTransportFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or SocketException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads a retry delay from <c>retry-after-ms</c> (preferred, more precise) or <c>retry-after</c>
    /// (delta-seconds or an HTTP date); null when neither gives a usable value.
    /// </summary>
    public static TimeSpan? ParseRetryAfter(string? retryAfter, string? retryAfterMs, DateTimeOffset now)
    {
        if (double.TryParse(retryAfterMs, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0 && double.IsFinite(ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (string.IsNullOrWhiteSpace(retryAfter))
        {
            return null;
        }

        if (double.TryParse(retryAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && double.IsFinite(seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (DateTimeOffset.TryParseExact(retryAfter.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delay = date - now;
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The fields of an upstream error envelope, whichever vendor's shape it has.</summary>
    public readonly record struct ErrorDetail(string? Message, string? Type, string? Param, string? Code);

    /// <summary>
    /// Parses OpenAI's <c>{"error":{"message","type","param","code"}}</c>, Anthropic's
    /// <c>{"type":"error","error":{"type","message"}}</c>, and the <c>{"error":"text"}</c> or <c>{"message":"text"}</c>
    /// of simpler OpenAI-compatible servers. Never throws: an unreadable body gives an empty detail.
    /// </summary>
    public static ErrorDetail ParseErrorBody(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.Length > MaxErrorBodyChars)
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return default;
            }

            if (root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return new ErrorDetail(error.GetString(), null, null, null);
                }

                if (error.ValueKind == JsonValueKind.Object)
                {
                    return new ErrorDetail(
                        GetString(error, "message"), GetString(error, "type"), GetString(error, "param"), GetString(error, "code"));
                }
            }

            return new ErrorDetail(GetString(root, "message"), GetString(root, "type"), null, GetString(root, "code"));
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static ErrorDetail Redacted(ErrorDetail detail, UpstreamRedactor redactor) =>
        detail with { Message = redactor.Redact(detail.Message), Param = redactor.Redact(detail.Param) };

    /// <summary>The media type alone (no parameters), cut to a sane length: it is upstream text in a message.</summary>
    private static string SafeMediaType(string? contentType)
    {
        var mediaType = (contentType ?? "no content type").Split(';', 2)[0].Trim();
        return mediaType.Length is > 0 and <= 64 && mediaType.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '+' or '.')
            ? mediaType
            : "an unknown content type";
    }

    private static bool IsContextLengthExceeded(ErrorDetail detail) =>
        string.Equals(detail.Code, "context_length_exceeded", StringComparison.OrdinalIgnoreCase)
        || string.Equals(detail.Type, "context_length_exceeded", StringComparison.OrdinalIgnoreCase)
        || (detail.Message is { } message
            && (message.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
                || message.Contains("context_length_exceeded", StringComparison.OrdinalIgnoreCase)
                // Anthropic: "prompt is too long: 210000 tokens > 200000 maximum".
                || message.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)));

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;
}
