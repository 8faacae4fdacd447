using Gatehouse.Configuration;
using Gatehouse.Errors;
using Polly;
using Polly.Retry;

namespace Gatehouse.Routing;

/// <summary>Builds the Polly pipeline that wraps every call to one provider: bounded, jittered retries on that same target.</summary>
/// <remarks>
/// There is deliberately no Polly timeout here: adapters already enforce the provider's <c>TimeoutSeconds</c> over the
/// whole call (including a stream), and they tell a timeout from the caller's cancellation, which a second, outer
/// timeout would blur. The circuit breaker is not Polly's either: its state is cluster-wide, held by the
/// <c>ProviderGrain</c>, whereas Polly's breaker lives in one process.
/// </remarks>
internal static class TargetPipelines
{
    /// <summary>The longest wait between retries; an upstream asking for longer (via <c>retry-after</c>) is left for the next target.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    public static ResiliencePipeline Create(ProviderOptions options, TimeProvider timeProvider)
    {
        if (options.Retries <= 0)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryDelayMs),
                MaxDelay = MaxRetryDelay,
                ShouldHandle = static args => ValueTask.FromResult(
                    !args.Context.CancellationToken.IsCancellationRequested && IsWorthRetryingHere(args.Outcome.Exception)),
                // The upstream's retry-after wins over the backoff (null falls back to the computed delay).
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Exception is GatewayException { RetryAfter: { } retryAfter } ? (TimeSpan?)retryAfter : null),
            })
            .Build();
    }

    /// <summary>
    /// Errors worth another try on the same upstream: 5xx and connection failures, timeouts, and 429s that name a
    /// short enough wait. A rejected provider key will be rejected again, and a 400 is the request's fault.
    /// </summary>
    public static bool IsWorthRetryingHere(Exception? exception) => exception is GatewayException ex && ex.Error switch
    {
        GatewayError.UpstreamFailed or GatewayError.UpstreamTimeout => ex.RetryAfter is not { } wait || wait <= MaxRetryDelay,
        GatewayError.RateLimited => ex.RetryAfter is { } wait && wait <= MaxRetryDelay,
        _ => false,
    };
}
