using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Routing.Invokers;
using Gatehouse.Tracing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// Walks one alias's chain until a target answers: the policy picks the first of the targets whose circuit admits
/// traffic, the alias's other targets follow, then the targets of each <c>Fallbacks</c> alias in order. Only retryable
/// failures move on to the next candidate; a prompt too long for the context window moves on to the
/// <c>ContextWindowFallbacks</c> aliases instead. When every circuit is open it waits for the earliest recovery probe.
/// </summary>
/// <remarks>
/// Thread-safe and stateless between walks. Each target is called through its invokers (<see cref="TargetInvokers"/>),
/// which retry, admit, meter, track and trace the calls; the walk decides only which target comes next. Circuit state
/// is read from this silo's <see cref="UpstreamState"/>s; the provider grain is called only for the probe of a
/// half-open circuit (<see cref="CircuitProbe"/>). The caller's cancellation is never a reason to fail over.
/// </remarks>
internal sealed class RouteWalker(
    RouteTable routes, CircuitProbe probe, RequestDeadlines deadlines, GatehouseMetrics metrics, TimeProvider timeProvider, ILogger logger)
{
    private readonly long _probeRecheckTicks = timeProvider.TimestampFrequency / 10;

    /// <summary>Tries the candidates in order until one answers; waits for a recovery probe when every circuit is open.</summary>
    /// <typeparam name="TAnswer">What <paramref name="operation"/> answers with.</typeparam>
    /// <param name="alias">The alias to route.</param>
    /// <param name="call">The call.</param>
    /// <param name="request">The caller's request.</param>
    /// <param name="operation">What is asked of each target (a whole answer, or a stream up to its first chunk).</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    public async Task<(TAnswer Answer, RouteTarget Target, int Attempts)> WalkAsync<TAnswer>(
        string alias, RoutedCall call, IModelRequest request, UpstreamOperation operation, CancellationToken cancellationToken)
        where TAnswer : UpstreamAnswer
    {
        // The grain call does not carry the caller's logging scope: every attempt's lines (here and in the adapters) name the request.
        using var logScope = RequestIds.BeginScope(logger, call.Options.RequestId);
        var resolved = routes.Find(alias) ?? throw new GatewayException(GatewayError.ModelNotFound, $"The model '{alias}' does not exist.", "model");
        var log = new AttemptLog();
        // The same budget as the app quota's: bucket, slot and circuit waits of every target all spend from it.
        var deadline = deadlines.Start(call.Options, call.RemainingWait);
        var upstreamCall = new UpstreamCall(call, request, operation, deadline, log.Counter);
        var chain = Chain(resolved, resolved.Fallbacks, includeSelf: true);
        var switchedToLargerContext = false;

        while (true)
        {
            var attemptedAny = false;
            var earliestRetry = long.MaxValue;
            GatewayException? contextTooLong = null;
            foreach (var (stage, viaFallback) in chain)
            {
                var candidates = Candidates(stage, ref earliestRetry, log, viaFallback);
                RouteTarget? hedgedAlready = null;
                for (var index = 0; index < candidates.Count; index++)
                {
                    var target = candidates[index];
                    if (ReferenceEquals(target, hedgedAlready))
                    {
                        continue;
                    }

                    var probing = false;
                    if (target.State.Admit(out var retryAt) != Admission.Allowed)
                    {
                        var permit = retryAt == 0 ? await probe.AcquireAsync(target) : null;
                        if (permit is not { Granted: true })
                        {
                            // Another request holds the probe (here or on another silo), or the circuit is open again.
                            // With no open-until to go by (the probe request is under way here, or failed), look again shortly.
                            target.State.Admit(out retryAt);
                            earliestRetry = Math.Min(earliestRetry, retryAt == 0 ? timeProvider.GetTimestamp() + _probeRecheckTicks : retryAt);
                            log.Skipped(target, viaFallback);
                            continue;
                        }

                        probing = permit.Circuit != CircuitState.Closed;
                    }

                    attemptedAny = true;
                    if (!probing && index == 0 && stage.Hedging is { } hedging && candidates.Count > 1
                        && candidates[1].State.Admit(out _) == Admission.Allowed)
                    {
                        // A probe is never hedged: one call at a time to a recovering upstream.
                        hedgedAlready = candidates[1];
                        try
                        {
                            var answer = await HedgedPair.CallAsync(hedging, target, candidates[1], upstreamCall, viaFallback, log, cancellationToken);
                            CountFallback(viaFallback, call);
                            return ((TAnswer)answer.Answer, answer.Target, log.Attempts);
                        }
                        catch (GatewayException ex) when (!cancellationToken.IsCancellationRequested && ex.Error.IsRetryable())
                        {
                            // Both failures are in the log already; the chain goes on after the pair.
                            continue;
                        }
                        catch (GatewayException ex) when (!cancellationToken.IsCancellationRequested && ex.Error == GatewayError.ContextLengthExceeded)
                        {
                            contextTooLong = ex;
                            break;
                        }
                    }

                    try
                    {
                        var answer = await target.Invoker.InvokeAsync(upstreamCall, cancellationToken);
                        if (probing)
                        {
                            await probe.ReportAsync(target, succeeded: true);
                        }

                        CountFallback(viaFallback, call);
                        return ((TAnswer)answer, target, log.Attempts);
                    }
                    catch (GatewayException ex) when (!cancellationToken.IsCancellationRequested && (ex.Error.IsRetryable() || ex.Error == GatewayError.ContextLengthExceeded))
                    {
                        if (probing)
                        {
                            await probe.ReportAsync(target, succeeded: !HealthTrackingInvoker.IsUpstreamFault(ex.Error));
                        }

                        log.Failed(target, viaFallback, ex);
                        if (ex.Error == GatewayError.ContextLengthExceeded)
                        {
                            contextTooLong = ex;
                            break;
                        }
                    }
                    catch (GatewayException ex) when (probing && !cancellationToken.IsCancellationRequested)
                    {
                        // Any answer from the upstream (a 400 included) shows it is serving again.
                        await probe.ReportAsync(target, succeeded: !HealthTrackingInvoker.IsUpstreamFault(ex.Error));
                        throw;
                    }
                    catch (Exception) when (probing && cancellationToken.IsCancellationRequested)
                    {
                        // No verdict: hand the permit back rather than leave the circuit waiting for the lease to lapse.
                        probe.Release(target);
                        throw;
                    }
                }

                if (contextTooLong is not null)
                {
                    break;
                }
            }

            if (contextTooLong is not null)
            {
                // A larger model is the only remedy: the same prompt would overflow the rest of this chain too.
                if (switchedToLargerContext || resolved.ContextWindowFallbacks.IsEmpty)
                {
                    throw contextTooLong;
                }

                switchedToLargerContext = true;
                chain = Chain(resolved, resolved.ContextWindowFallbacks, includeSelf: false);
                continue;
            }

            if (!attemptedAny && earliestRetry != long.MaxValue && earliestRetry <= deadline.Timestamp)
            {
                // Every target is cooling down: wait for the earliest recovery probe rather than fail at once.
                var wait = timeProvider.GetElapsedTime(timeProvider.GetTimestamp(), earliestRetry);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, timeProvider, cancellationToken);
                }

                continue;
            }

            throw ExhaustedRouteError.Create(resolved.Alias, log, logger);
        }
    }

    /// <summary>The aliases whose targets are tried, in order: the alias itself (unless switching to larger-context aliases), then <paramref name="next"/>.</summary>
    private List<(ResolvedAlias Alias, bool ViaFallback)> Chain(ResolvedAlias alias, IEnumerable<string> next, bool includeSelf)
    {
        var chain = new List<(ResolvedAlias, bool)>();
        if (includeSelf)
        {
            chain.Add((alias, false));
        }

        foreach (var name in next)
        {
            if (routes.Find(name) is { } fallback)
            {
                chain.Add((fallback, true));
            }
        }

        return chain;
    }

    /// <summary>
    /// The alias's targets in the order they are tried: those whose circuit admits traffic, starting where the policy
    /// says. Targets behind an open circuit are left out and logged as skipped.
    /// </summary>
    private static List<RouteTarget> Candidates(ResolvedAlias alias, ref long earliestRetry, AttemptLog log, bool viaFallback)
    {
        var targets = alias.Targets;
        var admitted = new List<RouteTarget>(targets.Length);
        foreach (var target in targets)
        {
            if (target.State.Admit(out var retryAt) == Admission.Rejected)
            {
                earliestRetry = Math.Min(earliestRetry, retryAt);
                log.Skipped(target, viaFallback);
            }
            else
            {
                admitted.Add(target);
            }
        }

        if (admitted.Count <= 1)
        {
            return admitted;
        }

        var first = alias.Policy.PickFirst(admitted);
        var ordered = new List<RouteTarget>(admitted.Count);
        for (var i = 0; i < admitted.Count; i++)
        {
            ordered.Add(admitted[(first + i) % admitted.Count]);
        }

        return ordered;
    }

    private void CountFallback(bool viaFallback, RoutedCall call)
    {
        if (viaFallback)
        {
            metrics.Fallback(call.Alias);
        }
    }
}
