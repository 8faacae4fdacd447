using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Gatehouse.Pipeline;
using Microsoft.Extensions.Options;

namespace Gatehouse.Caching;

/// <summary>
/// The chat cache: a cacheable request is answered from this silo's <see cref="ResponseStore"/> when it holds the answer
/// (a near cache: no grain call), else by the <see cref="IResponseCacheGrain"/> shard of its hash (which calls the router),
/// and an answer that shard stored is then kept here too, until the same expiry. Any other chat request goes on to the
/// next stage and is marked <see cref="CacheStatus.Bypass"/>; other kinds of request pass through untouched.
/// </summary>
/// <remarks>
/// A cacheable request leaves the pipeline here: its upstream call belongs to the shard, so that identical requests from
/// anywhere in the cluster share it. Every answer from the cache is one usage record (<see cref="UsageMeter"/>).
/// </remarks>
public sealed class ResponseCacheStage(
    IPipelineStage innerStage, IGrainFactory grainFactory, IOptionsMonitor<GatehouseOptions> options, ResponseStore store, UsageMeter meter)
    : DelegatingPipelineStage(innerStage)
{
    public override async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Request is not ChatRequest chat)
        {
            return await InnerStage.GetResponseAsync(request, cancellationToken);
        }

        if (CacheKey(request.App, chat, request.Options) is { } key)
        {
            return new PipelineResponse(await CompleteCachedAsync(key, request.ToRoutedCall(), chat, cancellationToken));
        }

        var response = (ChatResponse)(await InnerStage.GetResponseAsync(request, cancellationToken)).Response;
        return new PipelineResponse(response.Route is { } route ? response with { Route = route with { Cache = CacheStatus.Bypass } } : response);
    }

    public override IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Request is not ChatRequest chat)
        {
            return InnerStage.GetStreamingResponseAsync(request, cancellationToken);
        }

        return CacheKey(request.App, chat, request.Options) is { } key
            ? CachedStreamAsync(key, request.ToRoutedCall(), chat, cancellationToken)
            : BypassStreamAsync(request, chat, cancellationToken);
    }

    /// <summary>
    /// The cache key (request hash) when the request is cached and de-duplicated: caching is on, and the request is deterministic
    /// (temperature 0 or a seed) or the app or the request opted in; null otherwise.
    /// </summary>
    internal string? CacheKey(AppIdentity app, ChatRequest request, CallOptions callOptions)
    {
        if (!options.CurrentValue.Cache.Enabled)
        {
            return null;
        }

        // Both no-cache and no-store still go through the grain: the first to refresh, the second to skip the write,
        // and both to share an identical call already in flight.
        var deterministic = request.Temperature == 0 || request.Seed is not null;
        return deterministic || app.CacheAllRequests || callOptions.ForceCache ? RequestHasher.Key(app.CacheNamespace, request) : null;
    }

    private async Task<ChatResponse> CompleteCachedAsync(string key, RoutedCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        if (NearHit(key, call) is { } near)
        {
            await meter.RecordCacheAnswerAsync(call.AppId, call.Alias, CacheStatus.Hit, near.Chunks[0].Route, near.Usage);
            return WithCacheStatus(near.Assembled, CacheStatus.Hit);
        }

        var answer = await Shard(key).CompleteAsync(key, call, request, cancellationToken);
        if (answer.StoredUntil is { } storedUntil)
        {
            KeepNear(key, answer.Chunks, storedUntil);
        }

        return WithCacheStatus(ChatResponseAssembler.Assemble(answer.Chunks), answer.Cache);
    }

    private async IAsyncEnumerable<ChatChunk> CachedStreamAsync(string key, RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var includeUsage = request.IncludeUsage;
        if (NearHit(key, call) is { } near)
        {
            for (var i = 0; i < near.Chunks.Length; i++)
            {
                if (ChunkShaping.ForCaller(near.Chunks[i], i == 0 ? CacheStatus.Hit : null, includeUsage) is { } shaped)
                {
                    yield return shaped;
                }
            }

            await meter.RecordCacheAnswerAsync(call.AppId, call.Alias, CacheStatus.Hit, near.Chunks[0].Route, near.Usage);
            yield break;
        }

        // A hit says until when its answer is served, so a replayed stream can be kept here; a live one is kept by the shard only.
        DateTimeOffset? hitUntil = null;
        var replayed = ImmutableArray.CreateBuilder<ChatChunk>();
        // The token goes to the enumerator as well as to the method, whatever the consumer does: the method argument
        // travels with the call that starts the enumeration, the enumerator's token with each MoveNext, and a cancelled
        // MoveNext is what detaches this caller from the shared upstream call at once.
        await foreach (var chunk in Shard(key).StreamAsync(key, call, request, cancellationToken).WithCancellation(cancellationToken))
        {
            if (replayed.Count == 0 && chunk.Route is { Cache: CacheStatus.Hit, CachedUntil: { } until })
            {
                hitUntil = until;
            }

            if (hitUntil is not null)
            {
                replayed.Add(chunk);
            }

            if (ChunkShaping.ForCaller(chunk, null, includeUsage) is { } shaped)
            {
                yield return shaped;
            }
        }

        if (hitUntil is { } expiry)
        {
            KeepNear(key, replayed.DrainToImmutable(), expiry);
        }
    }

    /// <summary>The answer this silo holds for <paramref name="key"/>, unless the caller asked not to read the cache.</summary>
    private StoredAnswer? NearHit(string key, RoutedCall call) => call.Options.NoCacheRead ? null : store.TryGet(key);

    private void KeepNear(string key, ImmutableArray<ChatChunk> chunks, DateTimeOffset storedUntil)
    {
        // On the shard's own silo the shard already put it in this same store.
        if (store.TryGet(key) is null)
        {
            store.Put(key, new StoredAnswer(chunks, storedUntil));
        }
    }

    private static ChatResponse WithCacheStatus(ChatResponse response, string status) =>
        response.Route is { } route ? response with { Route = route with { Cache = status, CachedUntil = null } } : response;

    private IResponseCacheGrain Shard(string key) => grainFactory.GetGrain<IResponseCacheGrain>(GrainKeys.ResponseCacheShard(key));

    private async IAsyncEnumerable<ChatChunk> BypassStreamAsync(PipelineRequest request, ChatRequest chat, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var includeUsage = chat.IncludeUsage;
        // The upstream call always asks for usage, to bill it; the caller gets it only if it asked.
        var upstreamRequest = includeUsage ? request : request.With(chat with { IncludeUsage = true });
        var first = true;
        await foreach (var chunk in InnerStage.GetStreamingResponseAsync(upstreamRequest, cancellationToken).WithCancellation(cancellationToken))
        {
            var shaped = ChunkShaping.ForCaller(chunk, first ? CacheStatus.Bypass : null, includeUsage);
            first = false;
            if (shaped is not null)
            {
                yield return shaped;
            }
        }
    }
}
