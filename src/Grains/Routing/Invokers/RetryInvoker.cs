using Polly;

namespace Gatehouse.Routing.Invokers;

/// <summary>Calls the target again, through its provider's Polly retry pipeline (<see cref="TargetPipelines.Create"/>), when a failure is worth another try there.</summary>
/// <remarks>
/// Every try runs the whole chain inside it, so each retry is admitted, counted as an attempt, metered, tracked and
/// traced on its own. A refused admission is not retried: the bucket or cap is what refused, and the next target is
/// the remedy, not another wait here (which would also spend the request's deadline again).
/// </remarks>
internal sealed class RetryInvoker(ITargetInvoker inner, ResiliencePipeline pipeline) : DelegatingTargetInvoker(inner)
{
    public override async ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        // Continue on the captured (grain) scheduler: Polly's default would resume retries on the thread pool.
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            return await pipeline.ExecuteAsync(
                static (ctx, state) => state.Inner.InvokeAsync(state.call, ctx.CancellationToken), context, (Inner, call));
        }
        catch (AdmissionRefusedException refused)
        {
            throw refused.Refusal;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
