namespace Gatehouse.Providers;

/// <summary>
/// Reading an upstream's answer failed after its response headers had arrived: the answer grew past
/// <see cref="ResponseSizeLimitHandler"/>'s limit, or the connection broke (a reset, a truncated chunked body).
/// </summary>
/// <remarks>
/// An <see cref="IOException"/>, as any failed read of a response stream is, so SDKs that wrap I/O failures wrap this
/// one too; <see cref="UpstreamFailures"/> finds it anywhere in the chain and tells it from a connection that never
/// opened.
/// </remarks>
internal sealed class UpstreamAnswerException : IOException
{
    private UpstreamAnswerException(string message, long? limitBytes, Exception? innerException)
        : base(message, innerException)
    {
        LimitBytes = limitBytes;
    }

    /// <summary>The size limit the answer exceeded; null when the connection broke instead.</summary>
    public long? LimitBytes { get; }

    public bool TooLarge => LimitBytes is not null;

    public static UpstreamAnswerException ExceededLimit(long limitBytes) =>
        new($"the upstream's answer is larger than the {limitBytes}-byte limit", limitBytes, null);

    public static UpstreamAnswerException Broken(Exception innerException) =>
        new("the connection broke while the upstream's answer was read", null, innerException);

    /// <summary>The first <see cref="UpstreamAnswerException"/> in <paramref name="exception"/>'s chain, or null.</summary>
    public static UpstreamAnswerException? Find(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is UpstreamAnswerException answer)
            {
                return answer;
            }

            if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate && Find(aggregate.InnerExceptions[0]) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }
}
