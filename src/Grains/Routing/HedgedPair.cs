using Gatehouse.Errors;
using Gatehouse.Routing.Invokers;
using Polly;

namespace Gatehouse.Routing;

/// <summary>
/// The first two candidates of an alias that sets <c>HedgeAfterMs</c>, called as a hedged pair (Polly hedging,
/// <see cref="TargetPipelines.CreateHedging"/>): the second starts if the first is slow, and the first answer wins.
/// </summary>
/// <remarks>
/// A stream is hedged up to its first chunk: the first to start answering wins, and the other is closed unread and
/// recorded as cancelled (<see cref="HedgedAnswer"/>). A retryable failure of either is logged as the failure of its
/// target and does not win; when both fail, the walk goes on after the pair.
/// </remarks>
internal static class HedgedPair
{
    public static async Task<HedgedAnswer> CallAsync(
        ResiliencePipeline<HedgedAnswer> hedging, RouteTarget first, RouteTarget second, UpstreamCall call, bool viaFallback, AttemptLog log,
        CancellationToken cancellationToken)
    {
        async ValueTask<Outcome<HedgedAnswer>> AttemptAsync(RouteTarget target, CancellationToken token)
        {
            try
            {
                // Polly disposes the answer that lost: an opened stream then gives back its permit and slot.
                return Outcome.FromResult(new HedgedAnswer(await target.Invoker.InvokeAsync(call, token), target));
            }
            catch (GatewayException ex) when (!token.IsCancellationRequested && (ex.Error.IsRetryable() || ex.Error == GatewayError.ContextLengthExceeded))
            {
                log.Failed(target, viaFallback, ex);
                return Outcome.FromException<HedgedAnswer>(ex);
            }
            catch (Exception ex)
            {
                return Outcome.FromException<HedgedAnswer>(ex);
            }
        }

        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            context.Properties.Set(TargetPipelines.HedgedCall, ctx => AttemptAsync(second, ctx.CancellationToken));
            var outcome = await hedging.ExecuteOutcomeAsync(
                static (ctx, start) => start(ctx.CancellationToken), context, (Func<CancellationToken, ValueTask<Outcome<HedgedAnswer>>>)(token => AttemptAsync(first, token)));
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
