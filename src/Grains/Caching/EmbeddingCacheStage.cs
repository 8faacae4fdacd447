using System.Collections.Immutable;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Gatehouse.Pipeline;
using Microsoft.Extensions.Options;

namespace Gatehouse.Caching;

/// <summary>
/// The embeddings cache, per input: with caching on, each input's vector is looked up in this silo's store, then in the
/// <see cref="IEmbeddingCacheGrain"/> shard of its key; only the inputs found nowhere go upstream, as one flight that
/// identical concurrent requests share (the flight's shard calls the router), and their vectors are stored for the next
/// request. With caching off an embeddings request goes on to the next stage and is marked <see cref="CacheStatus.Bypass"/>;
/// other kinds of request pass through untouched.
/// </summary>
/// <remarks>
/// Embeddings are deterministic, so every request is cached. The answer's usage is what the upstream billed for this
/// request (none when every input came from the cache or another caller's flight; null when the upstream does not say).
/// </remarks>
public sealed class EmbeddingCacheStage(
    IPipelineStage innerStage, IGrainFactory grainFactory, IOptionsMonitor<GatehouseOptions> options, ResponseStore store, UsageMeter meter,
    TimeProvider timeProvider)
    : DelegatingPipelineStage(innerStage)
{
    private static readonly Usage NothingBilled = new();

    public override async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Request is not EmbeddingRequest embedding)
        {
            return await InnerStage.GetResponseAsync(request, cancellationToken);
        }

        if (options.CurrentValue.Cache.Enabled)
        {
            return new PipelineResponse(await EmbedCachedAsync(request, embedding, cancellationToken));
        }

        var response = (EmbeddingResponse)(await InnerStage.GetResponseAsync(request, cancellationToken)).Response;
        return new PipelineResponse(response with { Route = response.Route! with { Cache = CacheStatus.Bypass } });
    }

    private async Task<EmbeddingResponse> EmbedCachedAsync(PipelineRequest pipelineRequest, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        var (app, callOptions) = (pipelineRequest.App, pipelineRequest.Options);
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
            flightKey, missingKeys, pipelineRequest.ToRoutedCall(), request with { Inputs = [.. missing.Select(i => request.Inputs[i])] }, cancellationToken);
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
}
