using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Pipeline;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// The app's own quota: every request counts against the app's requests per minute whether or not the cache answers
/// it, and its token estimate is reconciled with the tokens actually billed upstream (none for a hit or a shared answer).
/// </summary>
/// <remarks>
/// Reconciled only when the answer is complete: a failed or broken request keeps its estimate charged. An answer
/// reporting no usage (some upstreams' embeddings, a stream whose caller did not ask for usage) keeps it too.
/// </remarks>
public sealed class AppQuotaStage(IPipelineStage innerStage, AppQuotas quotas) : DelegatingPipelineStage(innerStage)
{
    public override async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
    {
        var lease = await Acquire(request, cancellationToken);
        var response = await InnerStage.GetResponseAsync(request, cancellationToken);
        quotas.Reconcile(lease, response.Billed);
        return response;
    }

    public override async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var lease = await Acquire(request, cancellationToken);
        var answer = new StreamedAnswer();
        await foreach (var chunk in InnerStage.GetStreamingResponseAsync(request, cancellationToken).WithCancellation(cancellationToken))
        {
            answer.Observe(chunk);
            yield return chunk;
        }

        quotas.Reconcile(lease, answer.Billed);
    }

    private ValueTask<QuotaLease> Acquire(PipelineRequest request, CancellationToken cancellationToken) =>
        quotas.AcquireAsync(request.App.AppId, request.Estimate, request.Options, request.Deadline, cancellationToken);
}
