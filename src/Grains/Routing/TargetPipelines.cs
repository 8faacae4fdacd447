using Gatehouse.Errors;
using Gatehouse.Providers;
using Polly;
using Polly.Hedging;
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

    /// <summary>Where the router puts the hedged call (the next target) for the pipeline's action generator to start.</summary>
    public static readonly ResiliencePropertyKey<Func<ResilienceContext, ValueTask<Outcome<HedgedAnswer>>>> HedgedCall = new("gatehouse.hedged-call");

    /// <summary>
    /// Polly hedging for an alias with <c>HedgeAfterMs</c>: if the first target has not answered after
    /// <paramref name="hedgeAfter"/>, the second is called as well; the first answer wins and Polly cancels the other
    /// call, so the loser's upstream request is aborted and its (never delivered) answer is never billed. A retryable
    /// failure of either does not win: the other call's answer is awaited (or, before the delay, started at once).
    /// </summary>
    public static ResiliencePipeline<HedgedAnswer> CreateHedging(TimeSpan hedgeAfter, TimeProvider timeProvider) =>
        new ResiliencePipelineBuilder<HedgedAnswer> { TimeProvider = timeProvider }
            .AddHedging(new HedgingStrategyOptions<HedgedAnswer>
            {
                MaxHedgedAttempts = 1,
                Delay = hedgeAfter,
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is GatewayException ex && ex.Error.IsRetryable() && !args.Context.CancellationToken.IsCancellationRequested),
                ActionGenerator = static args => args.PrimaryContext.Properties.TryGetValue(HedgedCall, out var call)
                    ? () => call(args.ActionContext)
                    : null,
            })
            .Build();

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
