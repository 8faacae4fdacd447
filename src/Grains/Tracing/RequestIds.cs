using Microsoft.Extensions.Logging;

namespace Gatehouse.Tracing;

/// <summary>
/// The id that names one gateway request in the caller's response (<c>x-request-id</c>) and in every log line written
/// for it, on whichever silo and in whichever grain the line is written.
/// </summary>
/// <remarks>
/// Grain calls do not carry the caller's logging scopes, so the id travels in <see cref="Grains.CallOptions.RequestId"/>
/// and each grain that logs for the request opens the scope again (<see cref="BeginScope"/>).
/// </remarks>
public static class RequestIds
{
    /// <summary>The longest id accepted from a caller; longer ones are replaced, not truncated.</summary>
    public const int MaxCallerLength = 128;

    /// <summary>A new id in OpenAI's shape: <c>req_</c> and 32 hex digits.</summary>
    public static string New() => "req_" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// The caller's own id (an <c>x-request-id</c> a proxy in front set) when it is short and plain — letters, digits and
    /// <c>-_.:</c> — so it cannot forge log lines; a new id otherwise.
    /// </summary>
    public static string FromCaller(string? callerId) =>
        callerId is { Length: > 0 and <= MaxCallerLength } && callerId.All(IsPlain) ? callerId : New();

    /// <summary>Puts <c>RequestId</c> on every line <paramref name="logger"/> (and anything called from here) writes until disposed.</summary>
    public static IDisposable? BeginScope(ILogger logger, string? requestId) =>
        requestId is null ? null : logger.BeginScope("RequestId:{RequestId}", requestId);

    private static bool IsPlain(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':';
}
