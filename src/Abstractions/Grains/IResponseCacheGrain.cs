using Gatehouse.Chat;

namespace Gatehouse.Grains;

/// <summary>
/// The cache entry and single-flight point for one request hash (key: <see cref="GrainKeys.ResponseCache"/>): the first
/// caller starts the upstream call, identical callers arriving meanwhile join it, later ones get the stored answer.
/// </summary>
/// <remarks>
/// Callers must have authenticated and authorized the app, and decided that the request is cacheable, already.
/// The upstream call belongs to the grain, not to any caller: one caller's cancellation only detaches that caller;
/// the upstream call is cancelled (and nothing stored) when every caller has gone. Failures and cancellations are
/// never stored; every waiting caller gets the same <see cref="Errors.GatewayException"/>.
/// The answer's <see cref="RouteInfo.Cache"/> says how it was served: <see cref="CacheStatus"/>.
/// </remarks>
[Alias("gatehouse.IResponseCacheGrain")]
public interface IResponseCacheGrain : IGrainWithStringKey
{
    /// <summary>The whole answer, assembled from the recorded stream.</summary>
    [Alias("Complete")]
    Task<ChatResponse> CompleteAsync(RoutedCall call, CancellationToken cancellationToken = default);

    /// <summary>The answer as a stream, from its first chunk, whether live, joined or replayed.</summary>
    [Alias("Stream")]
    IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, CancellationToken cancellationToken = default);
}
