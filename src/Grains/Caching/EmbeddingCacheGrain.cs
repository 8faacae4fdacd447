using System.Collections.Immutable;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;

namespace Gatehouse.Caching;

/// <summary>
/// One embeddings cache shard (see <see cref="IEmbeddingCacheGrain"/>); its vectors live in the silo's
/// <see cref="ResponseStore"/>, within the same byte budget as chat answers.
/// </summary>
/// <remarks>
/// Reentrant, so joiners are served while a flight is in progress. The flight's upstream call belongs to the shard: it
/// is cancelled only when every caller waiting for it has gone. The in-flight map holds only flights in progress.
/// </remarks>
[Reentrant, HashBasedPlacement]
internal sealed partial class EmbeddingCacheGrain(
    IOptionsMonitor<GatehouseOptions> options, ResponseStore store, TimeProvider timeProvider, ILogger<EmbeddingCacheGrain> logger)
    : Grain, IEmbeddingCacheGrain
{
    private readonly Dictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    public Task<ImmutableArray<CachedEmbedding?>> GetAsync(ImmutableArray<string> keys)
    {
        var found = ImmutableArray.CreateBuilder<CachedEmbedding?>(keys.Length);
        foreach (var key in keys)
        {
            found.Add(store.TryGet<StoredEmbedding>(key)?.Embedding);
        }

        return Task.FromResult(found.MoveToImmutable());
    }

    public Task PutAsync(ImmutableArray<CachedEmbeddingEntry> entries)
    {
        foreach (var entry in entries)
        {
            store.Put(entry.Key, new StoredEmbedding(entry.Embedding));
        }

        return Task.CompletedTask;
    }

    public async Task<EmbeddingResponse> FlightAsync(string flightKey, ImmutableArray<string> inputKeys, RoutedCall call, EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        // A caller that looked its inputs up just before an identical flight stored them arrives just after it ended.
        if (!call.Options.NoCacheRead && store.TryGet<StoredFlight>(StoredFlight.KeyOf(flightKey)) is { } ended)
        {
            return Joined(ended.Answer);
        }

        var joined = _flights.TryGetValue(flightKey, out var flight);
        if (!joined)
        {
            flight = new Flight();
            _flights[flightKey] = flight;
            flight.Answer = RunAsync(flightKey, flight, inputKeys, call, request);
        }

        flight!.Waiters++;
        try
        {
            var answer = await flight.Answer!.WaitAsync(cancellationToken);
            return joined ? Joined(answer) : answer;
        }
        finally
        {
            if (--flight.Waiters == 0 && !flight.Answer!.IsCompleted)
            {
                // Every caller has gone: nobody is left to answer, so the upstream call is cancelled and nothing stored.
                await flight.Cancellation.CancelAsync();
            }
        }
    }

    private async Task<EmbeddingResponse> RunAsync(string flightKey, Flight flight, ImmutableArray<string> inputKeys, RoutedCall call, EmbeddingRequest request)
    {
        try
        {
            var answer = await GrainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(call.Alias))
                .EmbedAsync(call with { CacheOutcome = CacheStatus.Miss }, request, flight.Cancellation.Token);
            if (!call.Options.NoCacheStore && answer.Route is { } route && answer.Vectors.Length == inputKeys.Length)
            {
                store.Put(StoredFlight.KeyOf(flightKey), new StoredFlight(answer, timeProvider.GetUtcNow() + StoredFlight.KeptFor));
                try
                {
                    await StoreAsync(inputKeys, answer, route);
                }
                catch (Exception ex)
                {
                    // The answer was paid for: it goes to its callers even if a shard could not keep it (one was moving).
                    LogNotStored(inputKeys.Length, ex.GetType().Name);
                }
            }

            return answer with { Route = answer.Route! with { Cache = CacheStatus.Miss } };
        }
        finally
        {
            _flights.Remove(flightKey);
            flight.Cancellation.Dispose();
        }
    }

    /// <summary>A joiner was billed nothing: the call was the first caller's.</summary>
    private static EmbeddingResponse Joined(EmbeddingResponse answer) =>
        answer.Route is { } route ? answer with { Route = route with { Cache = CacheStatus.Shared }, Usage = new Usage() } : answer;

    /// <summary>Each vector goes to the shard of its input's key, before any caller is answered, so the next request finds it.</summary>
    private Task StoreAsync(ImmutableArray<string> inputKeys, EmbeddingResponse answer, RouteInfo route)
    {
        var expiresAt = timeProvider.GetUtcNow().AddSeconds(options.CurrentValue.Cache.TtlSeconds);
        var byShard = inputKeys
            .Select((key, i) => new CachedEmbeddingEntry(key, new CachedEmbedding { Vector = answer.Vectors[i], Provider = route.Provider, Model = answer.Model, ExpiresAt = expiresAt }))
            .GroupBy(entry => GrainKeys.EmbeddingCacheShard(entry.Key));
        return Task.WhenAll(byShard.Select(shard => GrainFactory.GetGrain<IEmbeddingCacheGrain>(shard.Key).PutAsync([.. shard])));
    }

    [LoggerMessage(EventId = GatehouseEventIds.EmbeddingsNotStored, Level = LogLevel.Warning, Message = "{Count} embeddings were answered but not all cached ({Error}); the next request for them calls the upstream again")]
    private partial void LogNotStored(int count, string error);

    private sealed class Flight
    {
        public CancellationTokenSource Cancellation { get; } = new();
        public Task<EmbeddingResponse>? Answer { get; set; }
        public int Waiters { get; set; }
    }
}
