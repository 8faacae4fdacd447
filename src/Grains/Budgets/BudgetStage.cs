using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Pipeline;

namespace Gatehouse.Budgets;

/// <summary>
/// The app's budget: reserves the request's estimated cost before the stages after it, and settles what the answer
/// cost once it is complete, or failed.
/// </summary>
/// <remarks>
/// A failed request settles at 0: nothing was billed for it. A stream that broke or was abandoned settles at what its
/// reported usage (if any) cost. An answer from the cache or another caller's call costs nothing.
/// </remarks>
public sealed class BudgetStage(IPipelineStage innerStage, AppBudgets budgets) : DelegatingPipelineStage(innerStage)
{
    public override async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
    {
        var reservation = await Reserve(request, cancellationToken);
        PipelineResponse? response = null;
        try
        {
            response = await InnerStage.GetResponseAsync(request, cancellationToken);
            return response;
        }
        finally
        {
            budgets.Settle(reservation, response?.Route, response?.Billed);
        }
    }

    public override async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reservation = await Reserve(request, cancellationToken);
        var answer = new StreamedAnswer();
        try
        {
            await foreach (var chunk in InnerStage.GetStreamingResponseAsync(request, cancellationToken).WithCancellation(cancellationToken))
            {
                answer.Observe(chunk);
                yield return chunk;
            }
        }
        finally
        {
            budgets.Settle(reservation, answer.Route, answer.Billed);
        }
    }

    private ValueTask<BudgetReservation> Reserve(PipelineRequest request, CancellationToken cancellationToken) =>
        budgets.ReserveAsync(request.App.AppId, request.Alias, request.Estimate, cancellationToken);
}
