using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Gatehouse.Routing;

/// <summary>
/// Routes one alias's requests: the policy picks the first target, the alias's other targets follow, then the
/// targets of each <c>Fallbacks</c> alias in order. Only retryable failures move on to the next candidate.
/// </summary>
/// <remarks>
/// A reentrant stateless worker, so each silo routes its own requests locally with no single activation on the
/// path of every request. Upstream calls are made here, on the silo that handles the request.
/// </remarks>
// One activation per silo: a streamed answer is enumerated by several grain calls, which must all reach the
// activation that started it (a second local worker has no record of the enumerator). Reentrancy gives the concurrency.
[StatelessWorker(1), Reentrant]
internal sealed partial class RouterGrain(
    RouteTable routes, ProviderHealthReporter health, UpstreamAdmission admission, TimeProvider timeProvider, ILogger<RouterGrain> logger)
    : Grain, IRouterGrain
{
    public async Task<ChatResponse> CompleteAsync(RoutedCall call, CancellationToken cancellationToken = default)
    {
        var alias = ResolveAlias();
        List<AttemptFailure>? failures = null;
        var attempts = 0;
        foreach (var (target, viaFallback) in Plan(alias))
        {
            attempts++;
            // [issue 4 quota seam] The upstream's buckets and a concurrency slot for this attempt, from this silo's leases;
            // a refusal is a retryable RateLimited failure (not an upstream failure: health is not told) and the loop moves on.
            using var permit = await admission.AcquireAsync(target.Provider, call, cancellationToken);
            if (permit.Rejected is { } limited)
            {
                (failures ??= []).Add(new AttemptFailure(target, viaFallback, limited));
                continue;
            }

            var started = timeProvider.GetTimestamp();
            try
            {
                var response = await target.Gateway.GetResponseAsync(call.Request with { Model = target.Model }, cancellationToken);
                permit.Complete(response.Usage);
                health.RecordSuccess(target.Provider, timeProvider.GetElapsedTime(started));
                return response with { Route = new RouteInfo { Provider = target.Provider, Model = response.Model, Attempts = attempts } };
            }
            catch (GatewayException ex) when (ex.Error.IsRetryable() && !cancellationToken.IsCancellationRequested)
            {
                (failures ??= []).Add(RecordFailure(alias.Alias, target, viaFallback, ex));
            }
        }

        throw Exhausted(alias.Alias, failures);
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var alias = ResolveAlias();
        List<AttemptFailure>? failures = null;
        var attempts = 0;
        foreach (var (target, viaFallback) in Plan(alias))
        {
            attempts++;
            // [issue 4 quota seam] As in CompleteAsync; the permit also reads the stream's usage chunk to reconcile tokens.
            using var permit = await admission.AcquireAsync(target.Provider, call, cancellationToken);
            if (permit.Rejected is { } limited)
            {
                (failures ??= []).Add(new AttemptFailure(target, viaFallback, limited));
                continue;
            }

            var started = timeProvider.GetTimestamp();
            var chunks = permit.Track(target.Gateway.GetStreamingResponseAsync(call.Request with { Model = target.Model }, cancellationToken)).GetAsyncEnumerator(cancellationToken);
            bool hasFirst;
            try
            {
                hasFirst = await chunks.MoveNextAsync();
            }
            catch (GatewayException ex) when (ex.Error.IsRetryable() && !cancellationToken.IsCancellationRequested)
            {
                // Failing over is safe only here: nothing has reached the caller yet.
                await chunks.DisposeAsync();
                (failures ??= []).Add(RecordFailure(alias.Alias, target, viaFallback, ex));
                continue;
            }
            catch
            {
                await chunks.DisposeAsync();
                throw;
            }

            try
            {
                health.RecordSuccess(target.Provider, timeProvider.GetElapsedTime(started));
                if (hasFirst)
                {
                    var first = chunks.Current;
                    yield return first with { Route = new RouteInfo { Provider = target.Provider, Model = first.Model, Attempts = attempts } };
                    while (await chunks.MoveNextAsync())
                    {
                        yield return chunks.Current;
                    }
                }
            }
            finally
            {
                await chunks.DisposeAsync();
            }

            yield break;
        }

        throw Exhausted(alias.Alias, failures);
    }

    private ResolvedAlias ResolveAlias()
    {
        var name = this.GetPrimaryKeyString();
        return routes.Find(name) ?? throw new GatewayException(GatewayError.ModelNotFound, $"The model '{name}' does not exist.", "model");
    }

    /// <summary>The order in which targets are tried: the alias's own, then each fallback alias's, each starting where its policy says.</summary>
    private IEnumerable<(RouteTarget Target, bool ViaFallback)> Plan(ResolvedAlias alias)
    {
        foreach (var target in Ordered(alias))
        {
            yield return (target, false);
        }

        foreach (var fallbackName in alias.Fallbacks)
        {
            if (routes.Find(fallbackName) is not { } fallback)
            {
                continue;
            }

            foreach (var target in Ordered(fallback))
            {
                yield return (target, true);
            }
        }
    }

    private static IEnumerable<RouteTarget> Ordered(ResolvedAlias alias)
    {
        var targets = alias.Targets;
        var first = alias.Policy.PickFirst(targets);
        for (var i = 0; i < targets.Length; i++)
        {
            yield return targets[(first + i) % targets.Length];
        }
    }

    private AttemptFailure RecordFailure(string alias, RouteTarget target, bool viaFallback, GatewayException ex)
    {
        health.RecordFailure(target.Provider, ex.Error == GatewayError.UpstreamTimeout);
        LogAttemptFailed(alias, target.Provider, target.Model, ex.Error);
        return new AttemptFailure(target, viaFallback, ex);
    }

    private GatewayException Exhausted(string alias, List<AttemptFailure>? failures)
    {
        if (failures is null or [])
        {
            return new GatewayException(GatewayError.NoTargetAvailable, $"No target of model '{alias}' is available.");
        }

        var tried = string.Join("; ", failures.Select(f => $"{f.Target.Provider}/{f.Target.Model}{(f.ViaFallback ? " (fallback)" : "")}: {Describe(f.Error)}"));
        LogAllTargetsFailed(alias, failures.Count);

        if (failures.TrueForAll(f => f.Error.Error == GatewayError.UpstreamTimeout))
        {
            return new GatewayException(GatewayError.UpstreamTimeout, $"Every target of model '{alias}' timed out. Tried: {tried}.");
        }

        if (failures.TrueForAll(f => f.Error.Error == GatewayError.RateLimited))
        {
            var retryAfter = failures.Min(f => f.Error.RetryAfter);
            return new GatewayException(GatewayError.RateLimited, $"Every target of model '{alias}' is rate limited. Tried: {tried}.", retryAfter: retryAfter);
        }

        if (failures.TrueForAll(f => f.Error.UpstreamStatus is 503 or 529))
        {
            return new GatewayException(GatewayError.NoTargetAvailable, $"Every target of model '{alias}' is overloaded or unavailable. Tried: {tried}.");
        }

        return new GatewayException(GatewayError.UpstreamFailed, $"Every target of model '{alias}' failed. Tried: {tried}.");
    }

    private static string Describe(GatewayException error) => error.Error switch
    {
        GatewayError.UpstreamTimeout => "timed out",
        GatewayError.RateLimited => "rate limited",
        GatewayError.UpstreamAuthFailed => $"rejected the gateway's credentials{Status(error)}",
        _ => $"failed{Status(error)}",
    };

    private static string Status(GatewayException error) => error.UpstreamStatus is { } status ? $" (HTTP {status})" : "";

    [LoggerMessage(EventId = GatehouseEventIds.AttemptFailed, Level = LogLevel.Warning, Message = "Model {Alias}: target {Provider}/{Model} failed with {Error}; trying the next one")]
    private partial void LogAttemptFailed(string alias, string provider, string model, GatewayError error);

    [LoggerMessage(EventId = GatehouseEventIds.AllTargetsFailed, Level = LogLevel.Warning, Message = "Model {Alias}: all {Attempts} attempts failed")]
    private partial void LogAllTargetsFailed(string alias, int attempts);

    private sealed record AttemptFailure(RouteTarget Target, bool ViaFallback, GatewayException Error);
}
