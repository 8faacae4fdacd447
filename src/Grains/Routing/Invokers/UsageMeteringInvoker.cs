using Gatehouse.Errors;
using Gatehouse.Ledger;

namespace Gatehouse.Routing.Invokers;

/// <summary>Records every attempt in the usage ledger and the upstream metrics (<see cref="UsageMeter"/>), once, whatever its outcome.</summary>
/// <remarks>
/// A whole answer is recorded <c>ok</c> with its usage; a failure with its kind (<c>cancelled</c> when the caller went
/// away, <c>error</c> when it has none), without tokens. A stream is recorded when it ends, with the usage of its last
/// chunk and the status of its end; the stream of a hedged pair that lost is recorded <c>cancelled</c>, without tokens:
/// it was closed after its first chunk, unread.
/// </remarks>
internal sealed class UsageMeteringInvoker(ITargetInvoker inner, UsageMeter meter, string provider, string model, TimeProvider timeProvider)
    : DelegatingTargetInvoker(inner)
{
    public override async ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        UpstreamAnswer answer;
        try
        {
            answer = await Inner.InvokeAsync(call, cancellationToken);
        }
        catch (GatewayException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await meter.RecordUpstreamAsync(call.Call, provider, model, null, timeProvider.GetElapsedTime(started), call.Attempt, ex.Error.ToString());
            throw;
        }
        catch (Exception)
        {
            var status = cancellationToken.IsCancellationRequested ? UsageStatus.Cancelled : UsageStatus.Error;
            await meter.RecordUpstreamAsync(call.Call, provider, model, null, timeProvider.GetElapsedTime(started), call.Attempt, status);
            throw;
        }

        if (answer is UpstreamStream stream)
        {
            stream.OnEnded(end => meter.RecordUpstreamAsync(
                call.Call, provider, stream.Model, end.LostHedge ? null : stream.Usage, timeProvider.GetElapsedTime(started), call.Attempt, end.Status));
        }
        else
        {
            await meter.RecordUpstreamAsync(call.Call, provider, answer.Model, answer.Usage, timeProvider.GetElapsedTime(started), call.Attempt, UsageStatus.Ok);
        }

        return answer;
    }
}
