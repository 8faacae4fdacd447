using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Metrics;
using Gatehouse.Routing;
using Gatehouse.Tracing;
using Orleans.Concurrency;

namespace Gatehouse.Gateway;

/// <summary>The grain clients' entry point: checks the app key and the alias, then runs the <see cref="ChatPipeline"/>.</summary>
// One activation per silo: a streamed answer is enumerated by several grain calls, which must all reach the
// activation that started it (a second local worker has no record of the enumerator). Reentrancy gives the concurrency.
[StatelessWorker(1), Reentrant]
internal sealed class GatewayGrain(RequestAuthorizer authorizer, ChatPipeline pipeline, EmbeddingPipeline embeddings, GatehouseMetrics metrics) : Grain, IGatewayGrain
{
    private const string Api = "grain";

    public async Task<ChatResponse> CompleteAsync(string appKey, ChatRequest request, CancellationToken cancellationToken = default)
    {
        var metered = metrics.Start(Api);
        try
        {
            var app = Authorize(metered, appKey, request);
            return await pipeline.CompleteAsync(app, request, NewCall(), cancellationToken);
        }
        catch (Exception ex)
        {
            metered.Failed(ex, cancellationToken);
            throw;
        }
        finally
        {
            metered.End();
        }
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(string appKey, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var metered = metrics.Start(Api);
        try
        {
            var app = Authorize(metered, appKey, request);
            await using var chunks = pipeline.StreamAsync(app, request, NewCall(), cancellationToken).WithCancellation(cancellationToken).GetAsyncEnumerator();
            while (await NextAsync(chunks, metered, cancellationToken))
            {
                metered.FirstChunk();
                yield return chunks.Current;
            }
        }
        finally
        {
            metered.End();
        }
    }

    public async Task<EmbeddingResponse> EmbedAsync(string appKey, EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        var metered = metrics.Start(Api);
        try
        {
            var app = Authorize(metered, appKey, request.Model, ModelType.Embeddings);
            return await embeddings.EmbedAsync(app, request, NewCall(), cancellationToken);
        }
        catch (Exception ex)
        {
            metered.Failed(ex, cancellationToken);
            throw;
        }
        finally
        {
            metered.End();
        }
    }

    /// <summary>A grain client's request gets an id of its own, so the log lines written for it can be told apart.</summary>
    private static CallOptions NewCall() => new() { RequestId = RequestIds.New() };

    private AppIdentity Authorize(MeteredRequest metered, string appKey, ChatRequest request) =>
        Authorize(metered, appKey, request.Model, ModelType.Chat);

    private AppIdentity Authorize(MeteredRequest metered, string appKey, string alias, ModelType endpoint)
    {
        try
        {
            var app = authorizer.Authorize(appKey, alias, endpoint);
            (metered.App, metered.Alias) = (app.AppId, alias);
            return app;
        }
        catch (GatewayException ex) when (ex.Error is GatewayError.ModelNotAllowed or GatewayError.ModelNotFound or GatewayError.InvalidRequest)
        {
            metered.App = authorizer.Authenticate(appKey).AppId;
            throw;
        }
    }

    /// <summary>The next chunk; a failure is counted as the request's outcome before it reaches the caller.</summary>
    private static async ValueTask<bool> NextAsync(ConfiguredCancelableAsyncEnumerable<ChatChunk>.Enumerator chunks, MeteredRequest metered, CancellationToken cancellationToken)
    {
        try
        {
            return await chunks.MoveNextAsync();
        }
        catch (Exception ex)
        {
            metered.Failed(ex, cancellationToken);
            throw;
        }
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(string appKey, CancellationToken cancellationToken = default) =>
        Task.FromResult(authorizer.ModelsFor(authorizer.Authenticate(appKey)));
}
