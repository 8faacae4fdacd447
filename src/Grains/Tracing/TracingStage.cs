using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Metrics;
using Gatehouse.Pipeline;

namespace Gatehouse.Tracing;

/// <summary>
/// The outermost stage: the request's span (<c>chat {alias}</c> or <c>embeddings {alias}</c>), closed with what
/// answered and what was billed, and the request's cache result counted (<c>gatehouse_cache_requests_total</c>).
/// </summary>
/// <remarks>
/// A whole answer that fails marks its span failed with the error; a stream that breaks, fails before its first chunk
/// or is abandoned marks it unfinished (an iterator cannot catch around a yield).
/// </remarks>
public sealed class TracingStage(IPipelineStage innerStage, GatehouseMetrics metrics) : DelegatingPipelineStage(innerStage)
{
    public override async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
    {
        using var span = StartSpan(request);
        try
        {
            var response = await InnerStage.GetResponseAsync(request, cancellationToken);
            CountCacheResult(request, response.Route);
            span.Answered(response.Route, response.Billed);
            return response;
        }
        catch (Exception ex)
        {
            span.Failed(ex);
            throw;
        }
    }

    public override async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var span = StartSpan(request);
        var answer = new StreamedAnswer();
        var ended = false;
        try
        {
            await foreach (var chunk in InnerStage.GetStreamingResponseAsync(request, cancellationToken).WithCancellation(cancellationToken))
            {
                answer.Observe(chunk);
                yield return chunk;
            }

            CountCacheResult(request, answer.Route);
            span.Answered(answer.Route, answer.Billed);
            ended = true;
        }
        finally
        {
            if (!ended)
            {
                span.Unfinished(cancellationToken.IsCancellationRequested);
            }
        }
    }

    private static Activity? StartSpan(PipelineRequest request) => request.Request is EmbeddingRequest embedding
        ? GatehouseActivities.StartEmbeddingRequest(request.App.AppId, embedding, request.Options.RequestId)
        : GatehouseActivities.StartRequest(request.App.AppId, (ChatRequest)request.Request, request.Options.RequestId);

    private void CountCacheResult(PipelineRequest request, RouteInfo? route)
    {
        if (route?.Cache is { } result)
        {
            metrics.CacheResult(request.App.AppId, result);
        }
    }
}
