namespace Gatehouse.Providers;

/// <summary>The caller's token linked with the provider's timeout, remembering which of the two fired.</summary>
/// <remarks>Adapters use it to tell an upstream timeout (504, retryable) from the caller going away (no answer due).</remarks>
internal sealed class CallTimeout : IDisposable
{
    private readonly CancellationTokenSource? _timeoutSource;
    private readonly CancellationTokenSource? _linkedSource;

    public CallTimeout(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        CallerToken = cancellationToken;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            Token = cancellationToken;
            return;
        }

        _timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        _linkedSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeoutSource.Token);
        Token = _linkedSource.Token;
    }

    /// <summary>The token to call the upstream with: cancelled when the caller goes away or the timeout fires.</summary>
    public CancellationToken Token { get; }

    /// <summary>The caller's own token: when it is cancelled, no answer is due and nothing failed.</summary>
    public CancellationToken CallerToken { get; }

    public bool TimedOut => _timeoutSource?.IsCancellationRequested == true;

    public void Dispose()
    {
        _linkedSource?.Dispose();
        _timeoutSource?.Dispose();
    }
}
