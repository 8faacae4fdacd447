using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Budgets;
using Gatehouse.Caching;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tracing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Gateway;

/// <summary>
/// The one request path behind every front end (OpenAI HTTP, Anthropic HTTP, grain clients): it runs on the silo
/// that received the request, after the caller was authenticated and authorized.
/// </summary>
/// <remarks>
/// Thread-safe singleton. A cacheable request is answered from this silo's <see cref="ResponseStore"/> when it holds the
/// answer (a near cache: no grain call), else by the <see cref="IResponseCacheGrain"/> shard of its hash (which calls the
/// router), and an answer that shard stored is then kept here too, until the same expiry. Any other request goes
/// straight to the alias's router and is marked <see cref="CacheStatus.Bypass"/>.
/// Every request first passes the app's own quota: it counts against the app's requests per minute whether or not
/// the cache answers it, and its token estimate is reconciled with the tokens actually billed upstream (none for a
/// hit or a shared answer). Before that, the app's budget (if it has one) reserves the request's estimated cost, settled
/// with the cost of what the upstream billed once the answer is complete, or failed. Failures surface as <see cref="Errors.GatewayException"/>.
/// </remarks>
public sealed class ChatPipeline(
    IGrainFactory grainFactory, IOptionsMonitor<GatehouseOptions> options, AppQuotas appQuotas, RequestDeadlines deadlines,
    ResponseStore store, UsageMeter meter, AppBudgets budgets, GatehouseMetrics metrics)
{
    private static readonly Usage NothingBilled = new();

    public async Task<ChatResponse> CompleteAsync(AppIdentity app, ChatRequest request, CallOptions callOptions, CancellationToken cancellationToken)
    {
        using var span = GatehouseActivities.StartRequest(app.AppId, request, callOptions.RequestId);
        var deadline = deadlines.Start(callOptions);
        RouteInfo? route = null;
        Usage? billed = null;
        var budget = BudgetReservation.None;
        try
        {
            budget = await budgets.ReserveAsync(app.AppId, request, cancellationToken);
            var quota = await appQuotas.AcquireAsync(app.AppId, request, callOptions, deadline, cancellationToken);
            var response = await CompleteWithinQuotaAsync(app, request, callOptions, deadline, cancellationToken);
            (route, billed) = (response.Route, Billed(response.Route?.Cache, response.Usage));
            appQuotas.Reconcile(quota, billed);
            CountCacheResult(app, route);
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
            // A failed request settles at 0: nothing was billed for it.
            budgets.Settle(budget, route, billed);
        }
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(AppIdentity app, ChatRequest request, CallOptions callOptions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var span = GatehouseActivities.StartRequest(app.AppId, request, callOptions.RequestId);
        var deadline = deadlines.Start(callOptions);
        RouteInfo? route = null;
        Usage? reported = null;
        var ended = false;
        var budget = BudgetReservation.None;
        try
        {
            budget = await budgets.ReserveAsync(app.AppId, request, cancellationToken);
            var quota = await appQuotas.AcquireAsync(app.AppId, request, callOptions, deadline, cancellationToken);
            var call = Call(app, request, callOptions, deadline);
            var chunks = CacheKey(app, request, callOptions) is { } key
                ? CachedStreamAsync(key, call, request, cancellationToken)
                : BypassStreamAsync(call, request, cancellationToken);
            await foreach (var chunk in chunks.WithCancellation(cancellationToken))
            {
                route ??= chunk.Route;
                reported = chunk.Usage ?? reported;
                yield return chunk;
            }

            var billed = Billed(route?.Cache, reported);
            appQuotas.Reconcile(quota, billed);
            CountCacheResult(app, route);
            span.Answered(route, billed);
            ended = true;
        }
        finally
        {
            if (!ended)
            {
                // Broke, failed before its first chunk, or abandoned by the caller (an iterator cannot catch around a yield).
                span.Unfinished(cancellationToken.IsCancellationRequested);
            }

            // A stream that broke or was abandoned settles at what its reported usage (if any) cost.
            budgets.Settle(budget, route, Billed(route?.Cache, reported));
        }
    }

    private void CountCacheResult(AppIdentity app, RouteInfo? route)
    {
        if (route?.Cache is { } result)
        {
            metrics.CacheResult(app.AppId, result);
        }
    }

    /// <summary>What the upstream billed for this caller: nothing when the answer came from the cache or another caller's call.</summary>
    private static Usage? Billed(string? cacheStatus, Usage? reported) =>
        cacheStatus is CacheStatus.Hit or CacheStatus.Shared ? NothingBilled : reported;

    private async Task<ChatResponse> CompleteWithinQuotaAsync(
        AppIdentity app, ChatRequest request, CallOptions callOptions, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var call = Call(app, request, callOptions, deadline);
        if (CacheKey(app, request, callOptions) is { } key)
        {
            return await CompleteCachedAsync(key, call, request, cancellationToken);
        }

        var response = await Router(request).CompleteAsync(call, request, cancellationToken);
        return response.Route is { } route ? response with { Route = route with { Cache = CacheStatus.Bypass } } : response;
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

    private async IAsyncEnumerable<ChatChunk> BypassStreamAsync(RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var includeUsage = request.IncludeUsage;
        var upstreamRequest = includeUsage ? request : request with { IncludeUsage = true };
        var first = true;
        await foreach (var chunk in Router(request).StreamAsync(call, upstreamRequest, cancellationToken).WithCancellation(cancellationToken))
        {
            var shaped = ChunkShaping.ForCaller(chunk, first ? CacheStatus.Bypass : null, includeUsage);
            first = false;
            if (shaped is not null)
            {
                yield return shaped;
            }
        }
    }

    private IRouterGrain Router(ChatRequest request) => grainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Model));

    /// <summary>The call forwarded to the cache or the router, with what is left of the request's wait budget.</summary>
    private static RoutedCall Call(AppIdentity app, ChatRequest request, CallOptions options, RequestDeadline deadline) =>
        new() { AppId = app.AppId, Alias = request.Model, Options = options, RemainingWait = deadline.Remaining };
}
