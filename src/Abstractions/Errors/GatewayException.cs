namespace Gatehouse.Errors;

/// <summary>A request failed for a reason the caller should see; crosses grain and process boundaries.</summary>
/// <remarks>The message is safe to show to the caller: it never holds a secret, a prompt or a stack trace.</remarks>
[GenerateSerializer, Alias("gatehouse.GatewayException")]
public sealed class GatewayException : Exception
{
    public GatewayException(GatewayError error, string message, string? param = null, TimeSpan? retryAfter = null, int? upstreamStatus = null)
        : base(message)
    {
        Error = error;
        Param = param;
        RetryAfter = retryAfter;
        UpstreamStatus = upstreamStatus;
    }

    /// <summary>An error raised on the caller's side, keeping what caused it (for logs; never sent over the wire).</summary>
    public GatewayException(GatewayError error, string message, Exception innerException)
        : base(message, innerException)
    {
        Error = error;
    }

    [Id(0)] public GatewayError Error { get; private set; }
    /// <summary>The request field at fault, for invalid requests (OpenAI's <c>param</c>).</summary>
    [Id(1)] public string? Param { get; private set; }
    [Id(2)] public TimeSpan? RetryAfter { get; private set; }
    /// <summary>The HTTP status the upstream answered with, when the error came from one.</summary>
    [Id(3)] public int? UpstreamStatus { get; private set; }
}
