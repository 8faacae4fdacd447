using Gatehouse.Apps;
using Gatehouse.Budgets;
using Gatehouse.Caching;
using Gatehouse.Grains;
using Gatehouse.Pipeline;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Routing;
using Gatehouse.Tracing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Gateway;

/// <summary>
/// The request path before the grain hop, shared by every kind of call (chat, streamed chat, Responses, embeddings):
/// the one place that says which stages a request passes, and in which order.
/// </summary>
/// <remarks>
/// Thread-safe singleton; the stages are built once. The first stage added is the outermost: a request passes them
/// top to bottom and its answer comes back bottom to top. A new concern is a new stage and one line here.
/// </remarks>
public sealed class GatewayPipeline
{
    private readonly RequestDeadlines _deadlines;
    private readonly TokenEstimator _tokens;
    private readonly QuotaScopes _scopes;

    public GatewayPipeline(IServiceProvider services, RequestDeadlines deadlines, TokenEstimator tokens, QuotaScopes scopes)
    {
        (_deadlines, _tokens, _scopes) = (deadlines, tokens, scopes);
        First = new PipelineBuilder()
            .Use(inner => Create<TracingStage>(inner))         // the request's span, its cache result counted
            .Use(inner => Create<BudgetStage>(inner))          // reserve the estimated cost; settle what was billed
            .Use(inner => Create<AppQuotaStage>(inner))        // the app's requests and tokens per minute
            .Use(inner => Create<ResponseCacheStage>(inner))   // chat: near store, else the cache shard (which calls the router)
            .Use(inner => Create<EmbeddingCacheStage>(inner))  // embeddings: per input, near store, shards, one shared flight
            .Build(ActivatorUtilities.CreateInstance<RouterStage>(services));

        T Create<T>(IPipelineStage inner)
            where T : IPipelineStage => ActivatorUtilities.CreateInstance<T>(services, inner);
    }

    /// <summary>The outermost stage: where every request enters.</summary>
    public IPipelineStage First { get; }

    /// <summary>A caller's request as it enters the stages: its deadline starts now; its tokens are counted when a stage first asks.</summary>
    public PipelineRequest Start(AppIdentity app, IModelRequest request, CallOptions callOptions) =>
        new(app, request, callOptions, _deadlines.Start(callOptions), new RequestEstimate(_tokens, request, _scopes.AppDefaultMaxTokens(app.AppId)));
}
