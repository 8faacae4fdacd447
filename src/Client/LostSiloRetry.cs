using Polly;
using Polly.Retry;

namespace Gatehouse.Client;

/// <summary>
/// Retries a call that a silo rejected or dropped because it was going away (<see cref="LostSiloError"/>), as the
/// official OpenAI SDK retries connection errors: a gateway silo that is stopping can take a call and refuse it a
/// moment later, and the client's gateway list catches up within a fraction of a second, so a short wait sends the
/// retry to a silo that remains.
/// </summary>
/// <remarks>
/// Only rejections and lost connections are retried; a call that got no answer within <c>CallTimeout</c> is not
/// (it may still be running and has already cost the caller the whole timeout), nor is any error the gateway itself
/// raised (rate limits, bad requests, failed upstreams): those reach the caller at once.
/// </remarks>
internal sealed class LostSiloRetry
{
    /// <summary>The wait before the first retry; each further retry waits twice as long, with jitter.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);

    private readonly ResiliencePipeline _pipeline;

    public LostSiloRetry(int maxRetries, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        ArgumentNullException.ThrowIfNull(timeProvider);

        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (maxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsRetryable),
                MaxRetryAttempts = maxRetries,
                Delay = FirstDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        _pipeline = builder.Build();
    }

    /// <summary>Runs <paramref name="call"/>, retrying lost-silo failures; the last failure is thrown as the client's <see cref="Gatehouse.Errors.GatewayException"/>.</summary>
    public async ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (LostSiloError.Matches(ex))
        {
            throw LostSiloError.From(ex);
        }
    }

    private static bool IsRetryable(Exception exception) => LostSiloError.Matches(exception) && exception is not TimeoutException;
}
