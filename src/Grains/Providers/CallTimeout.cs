namespace Gatehouse.Providers;

/// <summary>The caller's token linked with the provider's timeout, remembering which of the two fired.</summary>
/// <remarks>Adapters use it to tell an upstream timeout (504, retryable) from the caller going away (no answer due).</remarks>
internal sealed class CallTimeout : IDisposable
{
    private readonly CancellationTokenSource? _timeoutSource;
    private readonly CancellationTokenSource? _linkedSource;

    public CallTimeout(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            Token = cancellationToken;
            return;
        }

        _timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        _linkedSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeoutSource.Token);
        Token = _linkedSource.Token;
    }

    public CancellationToken Token { get; }

    public bool TimedOut => _timeoutSource?.IsCancellationRequested == true;

    public void Dispose()
    {
        _linkedSource?.Dispose();
        _timeoutSource?.Dispose();
    }
}
