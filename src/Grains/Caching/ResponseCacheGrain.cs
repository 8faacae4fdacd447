using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;

namespace Gatehouse.Caching;

/// <summary>
/// One cache shard (see <see cref="IResponseCacheGrain"/>); the rules live in <see cref="SingleFlightCache"/>, the
/// stored answers in the silo's <see cref="ResponseStore"/>.
/// </summary>
/// <remarks>
/// Reentrant: joiners must be served while the first caller's upstream call is in flight. The upstream call goes through
/// the alias's <see cref="IRouterGrain"/>, a stateless worker, so it runs on this shard's silo. Hash placement puts the
/// shards evenly on the silos whichever silo first calls them, so the shards spread both the entries and the upstream
/// calls they start over the cluster. The shard holds only the flights in progress, so it
/// may be deactivated whenever it is idle; the answers it stored stay in its silo's store, within that silo's budget.
/// </remarks>
[Reentrant, HashBasedPlacement]
internal sealed class ResponseCacheGrain : Grain, IResponseCacheGrain
{
    private readonly SingleFlightCache _cache;

    public ResponseCacheGrain(IOptionsMonitor<GatehouseOptions> options, ResponseStore store, TimeProvider timeProvider, UsageMeter meter)
    {
        _cache = new SingleFlightCache(() => options.CurrentValue.Cache, store, timeProvider, Upstream, UpstreamWhole, meter);
    }

    public Task<CachedAnswer> CompleteAsync(string entryKey, RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default) =>
        _cache.CompleteAsync(entryKey, call, request, cancellationToken);

    public IAsyncEnumerable<ChatChunk> StreamAsync(string entryKey, RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default) =>
        _cache.StreamAsync(entryKey, call, request, cancellationToken);

    private IAsyncEnumerable<ChatChunk> Upstream(RoutedCall call, ChatRequest request, CancellationToken cancellationToken) =>
        Router(call).StreamAsync(call, request, cancellationToken);

    private Task<ChatResponse> UpstreamWhole(RoutedCall call, ChatRequest request, CancellationToken cancellationToken) =>
        Router(call).CompleteAsync(call, request, cancellationToken);

    private IRouterGrain Router(RoutedCall call) => GrainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(call.Alias));
}
