using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Metrics;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.RateLimiting;
using Gatehouse.Routing.Invokers;
using Gatehouse.Tracing;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Gatehouse.Routing;

/// <summary>
/// Routes one alias's requests (the grain's key): walks the alias's chain of targets and fallbacks
/// (<see cref="RouteWalker"/>) and hands the answer back with the route it took.
/// </summary>
/// <remarks>
/// A reentrant stateless worker, so each silo routes its own requests locally with no single activation on the
/// path of every request. Upstream calls are made here, on the silo that handles the request, through each target's
/// invokers (<see cref="TargetInvokers"/>).
/// </remarks>
// One activation per silo: a streamed answer is enumerated by several grain calls, which must all reach the
// activation that started it (a second local worker has no record of the enumerator). Reentrancy gives the concurrency.
[StatelessWorker(1), Reentrant]
internal sealed class RouterGrain : Grain, IRouterGrain
{
    private readonly RouteWalker _walker;
    private readonly ILogger<RouterGrain> _logger;

    public RouterGrain(
        RouteTable routes, UpstreamStates states, RequestDeadlines deadlines, GatehouseMetrics metrics, IGrainFactory grainFactory,
        TimeProvider timeProvider, ILogger<RouterGrain> logger)
    {
        var probe = new CircuitProbe(provider => grainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(provider)), states.SiloId, logger);
        _walker = new RouteWalker(routes, probe, deadlines, metrics, timeProvider, logger);
        _logger = logger;
    }

    public async Task<ChatResponse> CompleteAsync(RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default)
    {
        var (answer, target, attempts) = await _walker.WalkAsync<WholeAnswer<ChatResponse>>(
            this.GetPrimaryKeyString(), call, request, UpstreamOperation.Complete, cancellationToken);
        var response = answer.Response;
        return response with { Route = new RouteInfo { Provider = target.Provider, Model = response.Model, Attempts = attempts } };
    }

    public async Task<EmbeddingResponse> EmbedAsync(RoutedCall call, EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        var (answer, target, attempts) = await _walker.WalkAsync<WholeAnswer<EmbeddingResponse>>(
            this.GetPrimaryKeyString(), call, request, UpstreamOperation.Embed, cancellationToken);
        var response = answer.Response;
        return response with { Route = new RouteInfo { Provider = target.Provider, Model = response.Model, Attempts = attempts } };
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Failing over happens in the walk, before the first chunk is yielded; after that the stream is committed.
        var (stream, target, attempts) = await _walker.WalkAsync<UpstreamStream>(
            this.GetPrimaryKeyString(), call, request, UpstreamOperation.Stream, cancellationToken);
        try
        {
            if (stream.HasFirst)
            {
                var first = stream.Current;
                yield return first with { Route = new RouteInfo { Provider = target.Provider, Model = first.Model, Attempts = attempts } };
                while (await NextAsync())
                {
                    yield return stream.Current;
                }
            }
        }
        finally
        {
            // A stream is billed, and its attempt's span ended, when it ends: its usage comes with its last chunk.
            // A failure after the first chunk is recorded as its kind (UpstreamFailed, UpstreamTimeout, …), as before it.
            await stream.EndAsync(canceled: cancellationToken.IsCancellationRequested);
        }

        async ValueTask<bool> NextAsync()
        {
            // An iterator's scope does not outlive a yield: open it again around each pull, where a broken stream is logged.
            using var logScope = RequestIds.BeginScope(_logger, call.Options.RequestId);
            return await stream.MoveNextAsync();
        }
    }
}
