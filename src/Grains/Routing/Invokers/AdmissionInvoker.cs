using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Routing.Invokers;

/// <summary>
/// Admits each call through the upstream's buckets and concurrency cap (this silo's leases, <see cref="UpstreamAdmission"/>)
/// and numbers it as an attempt; the permit is released when the call ends, and for a stream when the stream ends.
/// </summary>
/// <remarks>
/// An exhausted bucket is a refusal, not an upstream failure: it moves on to the next target without counting as an
/// attempt or against the upstream's circuit, and without being retried (see <see cref="AdmissionRefusedException"/>).
/// The permit reconciles the tokens the upstream reported against those debited for the estimate.
/// </remarks>
internal sealed class AdmissionInvoker(ITargetInvoker inner, UpstreamAdmission admission, GatehouseMetrics metrics, string provider)
    : DelegatingTargetInvoker(inner)
{
    public override async ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var permit = await admission.AcquireAsync(provider, call.Call, call.Request, call.Deadline, cancellationToken);
        if (permit.Rejected is { } limited)
        {
            metrics.RateLimited("upstream");
            throw new AdmissionRefusedException(limited);
        }

        UpstreamAnswer answer;
        try
        {
            answer = await Inner.InvokeAsync(call with { Attempt = call.Attempts.Next() }, cancellationToken);
        }
        catch
        {
            permit.Dispose();
            throw;
        }

        if (answer is UpstreamStream stream)
        {
            stream.OnEnded(_ =>
            {
                Release(permit, stream);
                return ValueTask.CompletedTask;
            });
        }
        else
        {
            Release(permit, answer);
        }

        return answer;
    }

    private static void Release(UpstreamPermit permit, UpstreamAnswer answer)
    {
        permit.Complete(answer.Usage);
        permit.Dispose();
    }
}
