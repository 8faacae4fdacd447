using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Gatehouse.Caching;

/// <summary>
/// One request hash's cache entry and single-flight point (see <see cref="IResponseCacheGrain"/>); the rules live in
/// <see cref="SingleFlightCache"/>.
/// </summary>
/// <remarks>
/// Reentrant: joiners must be served while the first caller's upstream call is in flight. The upstream call goes through
/// the alias's <see cref="IRouterGrain"/>, a stateless worker, so it runs on this grain's silo: hash placement spreads
/// both the entries and the upstream calls they start over the cluster. A stored entry keeps the activation alive until
/// it expires; then a grain timer (on the grain <see cref="TimeProvider"/>) drops it and deactivates the idle grain,
/// which bounds memory to the answers stored within one TTL.
/// </remarks>
[Reentrant]
internal sealed class ResponseCacheGrain : Grain, IResponseCacheGrain
{
    /// <summary>How long to wait before deactivating an expired entry that someone is still reading.</summary>
    private static readonly TimeSpan ReaderGrace = TimeSpan.FromSeconds(10);

    private readonly SingleFlightCache _cache;
    private IGrainTimer? _expiry;

    public ResponseCacheGrain(IOptionsMonitor<GatehouseOptions> options, UsageRecorder usage, TimeProvider timeProvider)
    {
        _cache = new SingleFlightCache(() => options.CurrentValue.Cache, usage, timeProvider, Upstream) { Stored = OnStored };
    }

    public Task<ChatResponse> CompleteAsync(RoutedCall call, CancellationToken cancellationToken = default) =>
        _cache.CompleteAsync(call, cancellationToken);

    public IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, CancellationToken cancellationToken = default) =>
        _cache.StreamAsync(call, cancellationToken);

    private IAsyncEnumerable<ChatChunk> Upstream(RoutedCall call, CancellationToken cancellationToken) =>
        GrainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(call.Request.Model)).StreamAsync(call, cancellationToken);

    private void OnStored(TimeSpan ttl)
    {
        // Activation collection must not drop the entry before its TTL.
        DelayDeactivation(ttl);
        Arm(ttl);
    }

    private void Arm(TimeSpan dueTime)
    {
        if (_expiry is null)
        {
            _expiry = this.RegisterGrainTimer(OnExpiryAsync, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
        else
        {
            _expiry.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private Task OnExpiryAsync(CancellationToken cancellationToken)
    {
        if (_cache.ExpireIfDue() is { } remaining)
        {
            // A fresher answer replaced the entry since the timer was set.
            Arm(remaining);
        }
        else if (_cache.IsIdle)
        {
            DeactivateOnIdle();
        }
        else
        {
            Arm(ReaderGrace);
        }

        return Task.CompletedTask;
    }
}
