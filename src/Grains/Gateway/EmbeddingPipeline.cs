using System.Collections.Immutable;
using Gatehouse.Apps;
using Gatehouse.Budgets;
using Gatehouse.Caching;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tracing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Gateway;

/// <summary>
/// The request path of embeddings behind every front end, on the silo that received the request, after the caller was
/// authenticated and authorized for an embeddings alias.
/// </summary>
/// <remarks>
/// Thread-safe singleton. As for chat, the app's budget reserves the estimated cost and the app's quota admits the
/// request (its tokens: the inputs', by the tokenizer) before anything else. Embeddings are deterministic, so with
/// caching on every request is cached, per input: each input's vector is looked up in this silo's store, then in the
/// <see cref="IEmbeddingCacheGrain"/> shard of its key; only the inputs found nowhere go upstream, as one flight that
/// identical concurrent requests share, and their vectors are stored for the next request. The answer's usage is what
/// the upstream billed for this request (none when every input came from the cache or another caller's flight; null
/// when the upstream does not say, and then the quota keeps the estimate).
/// </remarks>
public sealed class EmbeddingPipeline(
    IGrainFactory grainFactory, IOptionsMonitor<GatehouseOptions> options, AppQuotas appQuotas, RequestDeadlines deadlines,
    ResponseStore store, UsageMeter meter, AppBudgets budgets, GatehouseMetrics metrics, TimeProvider timeProvider)
{
    private static readonly Usage NothingBilled = new();

    public async Task<EmbeddingResponse> EmbedAsync(AppIdentity app, EmbeddingRequest request, CallOptions callOptions, CancellationToken cancellationToken)
    {
        using var span = GatehouseActivities.StartEmbeddingRequest(app.AppId, request, callOptions.RequestId);
        var deadline = deadlines.Start(callOptions);
        RouteInfo? route = null;
        Usage? billed = null;
        var budget = BudgetReservation.None;
        try
        {
            budget = await budgets.ReserveAsync(app.AppId, request, cancellationToken);
            var quota = await appQuotas.AcquireAsync(app.AppId, request, callOptions, deadline, cancellationToken);
            var response = options.CurrentValue.Cache.Enabled
                ? await EmbedCachedAsync(app, request, callOptions, deadline, cancellationToken)
                : await BypassAsync(app, request, callOptions, deadline, cancellationToken);
            (route, billed) = (response.Route, response.Usage);
            // An upstream that reports no usage (Gemini's embeddings) leaves the estimate charged, as for chat.
            appQuotas.Reconcile(quota, billed);
            if (route?.Cache is { } result)
            {
                metrics.CacheResult(app.AppId, result);
            }

            span.Answered(route, billed);
            return response;
        }
        catch (Exception ex)
        {
            span.Failed(ex);
            throw;
        }
        finally
        {
            budgets.Settle(budget, route, billed);
        }
    }

    private async Task<EmbeddingResponse> BypassAsync(
        AppIdentity app, EmbeddingRequest request, CallOptions callOptions, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var response = await Router(request).EmbedAsync(Call(app, request, callOptions, deadline), request, cancellationToken);
        return response with { Route = response.Route! with { Cache = CacheStatus.Bypass } };
    }

    private async Task<EmbeddingResponse> EmbedCachedAsync(
        AppIdentity app, EmbeddingRequest request, CallOptions callOptions, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var keys = EmbeddingCacheKeys.ForInputs(app.CacheNamespace, request);
        var found = callOptions.NoCacheRead ? new CachedEmbedding?[keys.Length] : await LookUpAsync(keys);

        // The inputs found nowhere, each once (an input repeated in the request is computed once).
        var missing = new List<int>();
        var firstOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            if (found[i] is null && firstOfKey.TryAdd(keys[i], i))
            {
                missing.Add(i);
            }
        }

        if (missing.Count == 0)
        {
            var hit = found[0]!;
            var answeredBy = new RouteInfo { Provider = hit.Provider, Model = hit.Model, Cache = CacheStatus.Hit };
            await meter.RecordCacheAnswerAsync(app.AppId, request.Model, CacheStatus.Hit, answeredBy, NothingBilled);
            return new EmbeddingResponse { Model = hit.Model, Vectors = [.. found.Select(f => f!.Vector)], Usage = NothingBilled, Route = answeredBy };
        }

        var missingKeys = missing.Select(i => keys[i]).ToImmutableArray();
        var flightKey = EmbeddingCacheKeys.ForFlight(missingKeys);
        var computed = await Shard(flightKey).FlightAsync(
            flightKey, missingKeys, Call(app, request, callOptions, deadline), request with { Inputs = [.. missing.Select(i => request.Inputs[i])] }, cancellationToken);
        if (computed.Vectors.Length != missing.Count)
        {
            throw new Errors.GatewayException(Errors.GatewayError.UpstreamFailed,
                $"The upstream answered {computed.Vectors.Length} embeddings for {missing.Count} inputs.");
        }

        var byKey = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var j = 0; j < missing.Count; j++)
        {
            byKey[missingKeys[j]] = computed.Vectors[j];
            KeepNear(missingKeys[j], computed, j, callOptions);
        }

        var vectors = ImmutableArray.CreateBuilder<float[]>(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            vectors.Add(found[i]?.Vector ?? byKey[keys[i]]);
        }

        return computed with { Vectors = vectors.MoveToImmutable() };
    }

    /// <summary>Each key's vector from this silo's store, else from its shard (one call per shard holding any of the rest).</summary>
    private async Task<CachedEmbedding?[]> LookUpAsync(ImmutableArray<string> keys)
    {
        var found = new CachedEmbedding?[keys.Length];
        var remote = new List<int>();
        for (var i = 0; i < keys.Length; i++)
        {
            found[i] = store.TryGet<StoredEmbedding>(keys[i])?.Embedding;
            if (found[i] is null)
            {
                remote.Add(i);
            }
        }

        var lookups = remote.GroupBy(i => GrainKeys.EmbeddingCacheShard(keys[i])).Select(async shard =>
        {
            var indices = shard.ToArray();
            var answers = await grainFactory.GetGrain<IEmbeddingCacheGrain>(shard.Key).GetAsync([.. indices.Select(i => keys[i])]);
            for (var n = 0; n < indices.Length; n++)
            {
                if (answers[n] is { } embedding)
                {
                    found[indices[n]] = embedding;
                    store.Put(keys[indices[n]], new StoredEmbedding(embedding));
                }
            }
        });
        await Task.WhenAll(lookups);
        return found;
    }

    private void KeepNear(string key, EmbeddingResponse computed, int index, CallOptions callOptions)
    {
        if (callOptions.NoCacheStore || computed.Route is not { } route || store.TryGet<StoredEmbedding>(key) is not null)
        {
            return;
        }

        store.Put(key, new StoredEmbedding(new CachedEmbedding
        {
            Vector = computed.Vectors[index],
            Provider = route.Provider,
            Model = computed.Model,
            ExpiresAt = timeProvider.GetUtcNow().AddSeconds(options.CurrentValue.Cache.TtlSeconds),
        }));
    }

    private IEmbeddingCacheGrain Shard(string key) => grainFactory.GetGrain<IEmbeddingCacheGrain>(GrainKeys.EmbeddingCacheShard(key));

    /// <summary>The call forwarded to the cache or the router, with what is left of the request's wait budget.</summary>
    private static RoutedCall Call(AppIdentity app, EmbeddingRequest request, CallOptions options, RequestDeadline deadline) =>
        new() { AppId = app.AppId, Alias = request.Model, Options = options, RemainingWait = deadline.Remaining };

    private IRouterGrain Router(EmbeddingRequest request) => grainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Model));
}
