using Gatehouse.Chat;

namespace Gatehouse.Grains;

/// <summary>
/// A cache shard (key: <see cref="GrainKeys.ResponseCacheShard"/>): the single-flight point of every request hash that
/// falls in it. The first caller of a hash starts the upstream call, identical callers arriving meanwhile join it, later
/// ones get the stored answer.
/// </summary>
/// <remarks>
/// A fixed number of shards, so a unique request never costs a grain activation. Callers must have authenticated and
/// authorized the app, and decided that the request is cacheable, already. The upstream call belongs to the shard, not
/// to any caller: one caller's cancellation only detaches that caller; the upstream call is cancelled (and nothing
/// stored) when every caller has gone. Failures and cancellations are never stored; every waiting caller gets the same
/// <see cref="Errors.GatewayException"/>. The answer's <see cref="RouteInfo.Cache"/> says how it was served:
/// <see cref="CacheStatus"/>.
/// </remarks>
[Alias("gatehouse.IResponseCacheGrain")]
public interface IResponseCacheGrain : IGrainWithStringKey
{
    /// <summary>The whole answer for the request hash <paramref name="entryKey"/> (<see cref="GrainKeys.ResponseCache"/>).</summary>
    [Alias("Complete")]
    Task<CachedAnswer> CompleteAsync(string entryKey, RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>The answer as a stream, from its first chunk, whether live, joined or replayed; usage always included.</summary>
    [Alias("Stream")]
    IAsyncEnumerable<ChatChunk> StreamAsync(string entryKey, RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default);
}
