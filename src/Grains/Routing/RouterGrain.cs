using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tracing;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Polly;

namespace Gatehouse.Routing;

/// <summary>
/// Routes one alias's requests: the policy picks the first of the targets whose circuit admits traffic, the alias's
/// other targets follow, then the targets of each <c>Fallbacks</c> alias in order. Each target is called through its
/// provider's retry pipeline; only retryable failures move on to the next candidate. A prompt too long for the
/// context window moves on to the <c>ContextWindowFallbacks</c> aliases instead.
/// </summary>
/// <remarks>
/// A reentrant stateless worker, so each silo routes its own requests locally with no single activation on the
/// path of every request. Upstream calls are made here, on the silo that handles the request. Circuit state is read
/// from this silo's <see cref="UpstreamStates"/>; the provider grain is called only for the probe of a half-open circuit.
/// </remarks>
// One activation per silo: a streamed answer is enumerated by several grain calls, which must all reach the
// activation that started it (a second local worker has no record of the enumerator). Reentrancy gives the concurrency.
[StatelessWorker(1), Reentrant]
internal sealed partial class RouterGrain(
    RouteTable routes, UpstreamStates states, UpstreamAdmission admission, RequestDeadlines deadlines, UsageMeter meter, GatehouseMetrics metrics,
    TimeProvider timeProvider, ILogger<RouterGrain> logger)
    : Grain, IRouterGrain
{
    private readonly long _probeRecheckTicks = timeProvider.TimestampFrequency / 10;

    public async Task<ChatResponse> CompleteAsync(RoutedCall call, ChatRequest request, CancellationToken cancellationToken = default)
    {
        var (response, target, attempts) = await RouteAsync(
            call, request, (target, permit, ct) => SendAsync(target, request with { Model = target.Model }, permit, ct), holdInFlight: false, cancellationToken);
        return response with { Route = new RouteInfo { Provider = target.Provider, Model = response.Model, Attempts = attempts } };
    }

    public async Task<EmbeddingResponse> EmbedAsync(RoutedCall call, EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        var (response, target, attempts) = await RouteAsync(
            call, request, (target, permit, ct) => EmbedAtAsync(target, request with { Model = target.Model }, permit, ct), holdInFlight: false, cancellationToken);
        return response with { Route = new RouteInfo { Provider = target.Provider, Model = response.Model, Attempts = attempts } };
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Failing over happens inside RouteAsync, before the first chunk is yielded; after that the stream is committed.
        var (opened, target, attempts) = await RouteAsync(
            call, request, (target, permit, ct) => OpenStreamAsync(target, request with { Model = target.Model }, permit, ct), holdInFlight: true, cancellationToken);
        var model = target.Model;
        Usage? reported = null;
        var ended = false;
        GatewayException? failedWith = null;
        try
        {
            if (opened.HasFirst)
            {
                var first = opened.Chunks.Current;
                model = first.Model;
                reported = first.Usage;
                yield return first with { Route = new RouteInfo { Provider = target.Provider, Model = first.Model, Attempts = attempts } };
                while (await NextAsync())
                {
                    var chunk = opened.Chunks.Current;
                    reported = chunk.Usage ?? reported;
                    yield return chunk;
                }
            }

            ended = true;
        }
        finally
        {
            await opened.ReleaseAsync(target);
            // A stream is billed, and its attempt's span ended, when it ends: its usage comes with its last chunk.
            var status = ended ? UsageStatus.Ok
                : cancellationToken.IsCancellationRequested ? UsageStatus.Cancelled
                : failedWith?.Error.ToString() ?? UsageStatus.Error;
            EndSpan(opened.Span, model, reported, ended ? null : failedWith, ended, cancellationToken.IsCancellationRequested);
            await meter.RecordUpstreamAsync(call, target.Provider, model, reported, timeProvider.GetElapsedTime(opened.Started), opened.Attempt, status);
        }

        // A failure after the first chunk is recorded as its kind (UpstreamFailed, UpstreamTimeout, …), as before it.
        async ValueTask<bool> NextAsync()
        {
            // An iterator's scope does not outlive a yield: open it again around each pull, where a broken stream is logged.
            using var logScope = RequestIds.BeginScope(logger, call.Options.RequestId);
            try
            {
                return await opened.Chunks.MoveNextAsync();
            }
            catch (GatewayException ex)
            {
                failedWith = ex;
                throw;
            }
        }
    }

    private static void EndSpan(Activity? span, string model, Usage? usage, GatewayException? failure, bool ended, bool canceled)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("gen_ai.response.model", model);
        span.Tokens(usage);
        if (failure is not null)
        {
            span.Failed(failure);
        }
        else if (!ended)
        {
            span.Unfinished(canceled);
        }

        span.Dispose();
    }

    /// <summary>Tries the candidates in order until one answers; waits for a recovery probe when every circuit is open.</summary>
    /// <param name="call">The call.</param>
    /// <param name="request">The request, for the upstream buckets' token estimate.</param>
    /// <param name="send">One upstream call (a whole answer, or a stream up to its first chunk).</param>
    /// <param name="holdInFlight">Leave the winning call counted in flight: the caller ends it when the stream ends.</param>
    /// <param name="cancellationToken">The caller's cancellation: never a reason to fail over.</param>
    private async Task<(T Result, RouteTarget Target, int Attempts)> RouteAsync<T>(
        RoutedCall call, IModelRequest request, Func<RouteTarget, UpstreamPermit, CancellationToken, Task<T>> send, bool holdInFlight, CancellationToken cancellationToken)
    {
        // This grain call does not carry the caller's logging scope: every attempt's lines (here and in the adapters) name the request.
        using var logScope = RequestIds.BeginScope(logger, call.Options.RequestId);
        var alias = ResolveAlias();
        // The same budget as the app quota's: bucket, slot and circuit waits of every target all spend from it.
        var deadline = deadlines.Start(call.Options, call.RemainingWait);
        var log = new AttemptLog();
        var chain = Chain(alias, alias.Fallbacks, includeSelf: true);
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
                        var permit = retryAt == 0 ? await AcquireProbeAsync(target) : null;
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
                        // Hedged pair: a probe is never hedged (one call at a time to a recovering upstream). A stream is
                        // hedged up to its first chunk: the first to start answering wins, the other is closed unread.
                        hedgedAlready = candidates[1];
                        try
                        {
                            var answer = await HedgeAsync(hedging, target, candidates[1], call, request, send, holdInFlight, deadline, viaFallback, log, cancellationToken);
                            CountFallback(viaFallback, call);
                            return ((T)answer.Result, answer.Target, log.Attempts);
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
                        var result = await AttemptAsync(target, call, request, send, holdInFlight, deadline, log, cancellationToken);
                        if (probing)
                        {
                            await ReportProbeAsync(target, succeeded: true);
                        }

                        CountFallback(viaFallback, call);
                        return (result, target, log.Attempts);
                    }
                    catch (GatewayException ex) when (!cancellationToken.IsCancellationRequested && (ex.Error.IsRetryable() || ex.Error == GatewayError.ContextLengthExceeded))
                    {
                        if (probing)
                        {
                            await ReportProbeAsync(target, succeeded: !IsUpstreamFault(ex.Error));
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
                        await ReportProbeAsync(target, succeeded: !IsUpstreamFault(ex.Error));
                        throw;
                    }
                    catch (Exception) when (probing && cancellationToken.IsCancellationRequested)
                    {
                        // No verdict: hand the permit back rather than leave the circuit waiting for the lease to lapse.
                        ReleaseProbe(target);
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
                if (switchedToLargerContext || alias.ContextWindowFallbacks.IsEmpty)
                {
                    throw contextTooLong;
                }

                switchedToLargerContext = true;
                chain = Chain(alias, alias.ContextWindowFallbacks, includeSelf: false);
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

            throw Exhausted(alias.Alias, log);
        }
    }

    /// <summary>
    /// One target through its retry pipeline; every upstream call (each retry included) is first admitted by the
    /// upstream's buckets (this silo's leases), then counted, timed and reported to this silo's health view.
    /// </summary>
    /// <remarks>
    /// A refused admission leaves the pipeline without being retried: the bucket or cap is what refused, and the
    /// next target is the remedy, not another wait here (which would also spend the request's deadline again).
    /// </remarks>
    private async Task<T> AttemptAsync<T>(
        RouteTarget target, RoutedCall call, IModelRequest request, Func<RouteTarget, UpstreamPermit, CancellationToken, Task<T>> send, bool holdInFlight,
        RequestDeadline deadline, AttemptLog log, CancellationToken cancellationToken)
    {
        // Continue on the captured (grain) scheduler: Polly's default would resume retries on the thread pool.
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            return await target.Pipeline.ExecuteAsync(
                async ctx =>
                {
                    // An exhausted bucket is a retryable refusal, not an upstream failure: it moves on to the next
                    // target without counting as an attempt or against the upstream's circuit.
                    var permit = await admission.AcquireAsync(target.Provider, call, request, deadline, ctx.CancellationToken);
                    if (permit.Rejected is { } limited)
                    {
                        metrics.RateLimited("upstream");
                        throw new AdmissionRefusedException(limited);
                    }

                    var attempt = log.Attempted();
                    var state = target.State;
                    state.CallStarted();
                    var started = timeProvider.GetTimestamp();
                    var keepInFlight = false;
                    var span = GatehouseActivities.StartAttempt(target.Provider, target.Model, attempt, request is EmbeddingRequest ? "embeddings" : "chat");
                    var spanHandedOn = false;
                    try
                    {
                        var result = await send(target, permit, ctx.CancellationToken);
                        var elapsed = timeProvider.GetElapsedTime(started);
                        state.RecordSuccess(elapsed);
                        keepInFlight = holdInFlight;
                        if (result is ChatResponse whole)
                        {
                            span?.SetTag("gen_ai.response.model", whole.Model);
                            span.Tokens(whole.Usage);
                            await meter.RecordUpstreamAsync(call, target.Provider, whole.Model, whole.Usage, elapsed, attempt, UsageStatus.Ok);
                        }
                        else if (result is EmbeddingResponse embedded)
                        {
                            span?.SetTag("gen_ai.response.model", embedded.Model);
                            span.Tokens(embedded.Usage);
                            await meter.RecordUpstreamAsync(call, target.Provider, embedded.Model, embedded.Usage, elapsed, attempt, UsageStatus.Ok);
                        }
                        else if (result is OpenedStream opened)
                        {
                            // Recorded, and its span ended, when the stream ends (the losing half of a hedged pair when it is closed).
                            spanHandedOn = true;
                            return (T)(object)(opened with { Started = started, Attempt = attempt, Span = span });
                        }

                        return result;
                    }
                    catch (GatewayException ex) when (!ctx.CancellationToken.IsCancellationRequested)
                    {
                        span.Failed(ex);
                        RecordOutcome(target, ex);
                        await meter.RecordUpstreamAsync(call, target.Provider, target.Model, null, timeProvider.GetElapsedTime(started), attempt, ex.Error.ToString());
                        throw;
                    }
                    catch (Exception ex) when (ex is not AdmissionRefusedException)
                    {
                        span.Failed(ex);
                        var status = ctx.CancellationToken.IsCancellationRequested ? UsageStatus.Cancelled : UsageStatus.Error;
                        await meter.RecordUpstreamAsync(call, target.Provider, target.Model, null, timeProvider.GetElapsedTime(started), attempt, status);
                        throw;
                    }
                    finally
                    {
                        if (!spanHandedOn)
                        {
                            span?.Dispose();
                        }

                        if (!keepInFlight)
                        {
                            permit.Dispose();
                            state.CallEnded();
                        }
                    }
                },
                context);
        }
        catch (AdmissionRefusedException refused)
        {
            throw refused.Refusal;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The first two candidates as a hedged pair (Polly hedging): the second starts if the first is slow; the first answer wins.</summary>
    private async Task<HedgedAnswer> HedgeAsync<T>(
        ResiliencePipeline<HedgedAnswer> hedging, RouteTarget first, RouteTarget second, RoutedCall call, IModelRequest request,
        Func<RouteTarget, UpstreamPermit, CancellationToken, Task<T>> send, bool holdInFlight, RequestDeadline deadline, bool viaFallback,
        AttemptLog log, CancellationToken cancellationToken)
    {
        async ValueTask<Outcome<HedgedAnswer>> CallAsync(RouteTarget target, CancellationToken token)
        {
            try
            {
                var result = await AttemptAsync(target, call, request, send, holdInFlight, deadline, log, token);
                // Polly disposes the answer that lost: an opened stream must then give back its permit and slot. It is
                // recorded as cancelled, without tokens: it was closed after its first chunk, unread.
                return Outcome.FromResult(new HedgedAnswer(result!, target, result is OpenedStream opened ? () => CloseLosingStreamAsync(opened, target, call) : null));
            }
            catch (GatewayException ex) when (!token.IsCancellationRequested && (ex.Error.IsRetryable() || ex.Error == GatewayError.ContextLengthExceeded))
            {
                log.Failed(target, viaFallback, ex);
                return Outcome.FromException<HedgedAnswer>(ex);
            }
            catch (Exception ex)
            {
                return Outcome.FromException<HedgedAnswer>(ex);
            }
        }

        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            context.Properties.Set(TargetPipelines.HedgedCall, ctx => CallAsync(second, ctx.CancellationToken));
            var outcome = await hedging.ExecuteOutcomeAsync(static (ctx, call) => call(ctx.CancellationToken), context, (Func<CancellationToken, ValueTask<Outcome<HedgedAnswer>>>)(token => CallAsync(first, token)));
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void CountFallback(bool viaFallback, RoutedCall call)
    {
        if (viaFallback)
        {
            metrics.Fallback(call.Alias);
        }
    }

    private async ValueTask CloseLosingStreamAsync(OpenedStream opened, RouteTarget target, RoutedCall call)
    {
        var model = opened.HasFirst ? opened.Chunks.Current.Model : target.Model;
        await opened.ReleaseAsync(target);
        opened.Span?.SetTag("gatehouse.hedge", "lost");
        opened.Span?.Dispose();
        await meter.RecordUpstreamAsync(call, target.Provider, model, null, timeProvider.GetElapsedTime(opened.Started), opened.Attempt, UsageStatus.Cancelled);
    }

    private static async Task<ChatResponse> SendAsync(RouteTarget target, ChatRequest request, UpstreamPermit permit, CancellationToken cancellationToken)
    {
        var response = await target.Gateway.GetResponseAsync(request, cancellationToken);
        permit.Complete(response.Usage);
        return response;
    }

    /// <summary>One embeddings call; a target whose adapter serves no embeddings is a configuration the validator refuses.</summary>
    private static async Task<EmbeddingResponse> EmbedAtAsync(RouteTarget target, EmbeddingRequest request, UpstreamPermit permit, CancellationToken cancellationToken)
    {
        var gateway = target.Gateway.GetService(typeof(IEmbeddingGateway)) as IEmbeddingGateway
            ?? throw new GatewayException(GatewayError.InvalidRequest, $"The provider '{target.Provider}' does not serve embeddings.", "model");
        var response = await gateway.EmbedAsync(request, cancellationToken);
        permit.Complete(response.Usage);
        return response;
    }

    /// <summary>Opens the stream up to its first chunk; the permit travels with it and is released when the stream ends.</summary>
    private static async Task<OpenedStream> OpenStreamAsync(RouteTarget target, ChatRequest request, UpstreamPermit permit, CancellationToken cancellationToken)
    {
        var chunks = permit.Track(target.Gateway.GetStreamingResponseAsync(request, cancellationToken)).GetAsyncEnumerator(cancellationToken);
        try
        {
            return new OpenedStream(chunks, await chunks.MoveNextAsync(), permit);
        }
        catch
        {
            await chunks.DisposeAsync();
            throw;
        }
    }

    private void RecordOutcome(RouteTarget target, GatewayException ex)
    {
        if (IsUpstreamFault(ex.Error))
        {
            var wasClosed = target.State.Circuit == CircuitState.Closed;
            target.State.RecordFailure(ex.Error == GatewayError.UpstreamTimeout);
            LogAttemptFailed(this.GetPrimaryKeyString(), target.Provider, target.Model, ex.Error);
            if (wasClosed && target.State.Circuit == CircuitState.Open)
            {
                LogCircuitOpenedLocally(target.Provider);
            }
        }
        else if (ex.Error != GatewayError.RateLimited)
        {
            // The upstream answered (it rejected the request): it is up, whatever the request's fault.
            target.State.RecordRejection();
        }
    }

    /// <summary>Failures that count against an upstream's circuit. A 429 does not: the upstream is up, and buckets handle quota.</summary>
    private static bool IsUpstreamFault(GatewayError error) =>
        error is GatewayError.UpstreamFailed or GatewayError.UpstreamTimeout or GatewayError.UpstreamAuthFailed;

    /// <summary>Asks the provider grain for the probe permit; only one request per silo asks at a time, the others skip the target meanwhile.</summary>
    private async Task<ProbePermit?> AcquireProbeAsync(RouteTarget target)
    {
        if (!target.State.TryBeginProbe())
        {
            return null;
        }

        try
        {
            var permit = await GrainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(target.Provider)).TryAcquireProbeAsync(states.SiloId);
            target.State.Apply(permit);
            return permit;
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            // The authority is unreachable: treat the target as still open rather than flood a recovering upstream.
            LogProbeRequestFailed(target.Provider, ex.GetType().Name);
            return null;
        }
        finally
        {
            target.State.EndProbe();
        }
    }

    private async Task ReportProbeAsync(RouteTarget target, bool succeeded)
    {
        try
        {
            var status = await GrainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(target.Provider)).ReportProbeResultAsync(states.SiloId, succeeded);
            target.State.Apply(status);
            LogProbeResult(target.Provider, succeeded, status.Circuit);
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            // The permit lease lapses on its own; the next report carries the outcome's counts.
            LogProbeRequestFailed(target.Provider, ex.GetType().Name);
        }
    }

    private void ReleaseProbe(RouteTarget target)
    {
        // The caller has gone, so its token cannot be used; this is a one-way courtesy to the authority, not awaited.
        var release = GrainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(target.Provider)).ReleaseProbeAsync(states.SiloId);
        if (!release.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(release, target.Provider);
        }
    }

    private async Task ObserveAsync(ValueTask call, string provider)
    {
        try
        {
            await call;
        }
        catch (Exception ex)
        {
            LogProbeRequestFailed(provider, ex.GetType().Name);
        }
    }

    private ResolvedAlias ResolveAlias()
    {
        var name = this.GetPrimaryKeyString();
        return routes.Find(name) ?? throw new GatewayException(GatewayError.ModelNotFound, $"The model '{name}' does not exist.", "model");
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
    private List<RouteTarget> Candidates(ResolvedAlias alias, ref long earliestRetry, AttemptLog log, bool viaFallback)
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

    private GatewayException Exhausted(string alias, AttemptLog log)
    {
        var failures = log.Failures;
        var skipped = log.SkippedTargets.Count == 0
            ? ""
            : $"{(failures.Count == 0 ? "" : " ")}Skipped (circuit open): {string.Join(", ", log.SkippedTargets.Distinct())}.";
        if (failures.Count == 0)
        {
            if (log.SkippedTargets.Count > 0)
            {
                LogAllCircuitsOpen(alias);
                return new GatewayException(
                    GatewayError.NoTargetAvailable, $"No target of model '{alias}' is available: all circuits are open. {skipped}".TrimEnd());
            }

            return new GatewayException(GatewayError.NoTargetAvailable, $"No target of model '{alias}' is available.");
        }

        var tried = string.Join("; ", failures.Select(f => $"{f.Target.Provider}/{f.Target.Model}{(f.ViaFallback ? " (fallback)" : "")}: {Describe(f.Error)}"));
        LogAllTargetsFailed(alias, log.Attempts);

        if (failures.TrueForAll(f => f.Error.Error == GatewayError.UpstreamTimeout))
        {
            return new GatewayException(GatewayError.UpstreamTimeout, $"Every target of model '{alias}' timed out. Tried: {tried}.{skipped}");
        }

        if (failures.TrueForAll(f => f.Error.Error == GatewayError.RateLimited))
        {
            var retryAfter = failures.Min(f => f.Error.RetryAfter);
            return new GatewayException(GatewayError.RateLimited, $"Every target of model '{alias}' is rate limited. Tried: {tried}.{skipped}", retryAfter: retryAfter);
        }

        if (failures.TrueForAll(f => f.Error.UpstreamStatus is 503 or 529))
        {
            return new GatewayException(GatewayError.NoTargetAvailable, $"Every target of model '{alias}' is overloaded or unavailable. Tried: {tried}.{skipped}");
        }

        return new GatewayException(GatewayError.UpstreamFailed, $"Every target of model '{alias}' failed. Tried: {tried}.{skipped}");
    }

    private static string Describe(GatewayException error) => error.Error switch
    {
        GatewayError.UpstreamTimeout => "timed out",
        GatewayError.RateLimited => "rate limited",
        GatewayError.UpstreamAuthFailed => $"rejected the gateway's credentials{Status(error)}",
        GatewayError.ContextLengthExceeded => "prompt longer than its context window",
        // Without an upstream status the adapter itself saw what went wrong (a connection that broke, an answer over
        // its size limit or cut short); its message says which, and carries nothing from the upstream.
        GatewayError.UpstreamFailed when error.UpstreamStatus is null => $"failed: {error.Message}",
        _ => $"failed{Status(error)}",
    };

    private static string Status(GatewayException error) => error.UpstreamStatus is { } status ? $" (HTTP {status})" : "";

    [LoggerMessage(EventId = GatehouseEventIds.AttemptFailed, Level = LogLevel.Warning, Message = "Model {Alias}: target {Provider}/{Model} failed with {Error}")]
    private partial void LogAttemptFailed(string alias, string provider, string model, GatewayError error);

    [LoggerMessage(EventId = GatehouseEventIds.AllTargetsFailed, Level = LogLevel.Warning, Message = "Model {Alias}: all {Attempts} attempts failed")]
    private partial void LogAllTargetsFailed(string alias, int attempts);

    [LoggerMessage(EventId = GatehouseEventIds.CircuitOpenedLocally, Level = LogLevel.Warning, Message = "Provider {Provider}: too many consecutive failures on this silo; circuit opened here until the cluster decides")]
    private partial void LogCircuitOpenedLocally(string provider);

    [LoggerMessage(EventId = GatehouseEventIds.ProbeResult, Level = LogLevel.Information, Message = "Provider {Provider}: recovery probe succeeded={Succeeded}; circuit is {Circuit}")]
    private partial void LogProbeResult(string provider, bool succeeded, CircuitState circuit);

    [LoggerMessage(EventId = GatehouseEventIds.ProbeRequestFailed, Level = LogLevel.Debug, Message = "Provider {Provider}: could not reach the provider grain for the probe ({Error})")]
    private partial void LogProbeRequestFailed(string provider, string error);

    [LoggerMessage(EventId = GatehouseEventIds.AllCircuitsOpen, Level = LogLevel.Warning, Message = "Model {Alias}: every target's circuit is open and none recovers within the request's wait")]
    private partial void LogAllCircuitsOpen(string alias);

    private readonly record struct OpenedStream(IAsyncEnumerator<ChatChunk> Chunks, bool HasFirst, UpstreamPermit Permit)
    {
        /// <summary>When the attempt that opened it started (a <see cref="TimeProvider"/> timestamp), for the usage ledger.</summary>
        public long Started { get; init; }

        /// <summary>Which attempt of its request opened it.</summary>
        public int Attempt { get; init; }

        /// <summary>The attempt's span, ended with the stream.</summary>
        public Activity? Span { get; init; }

        /// <summary>Ends a stream that will not be read: the upstream call, its bucket permit and its in-flight count.</summary>
        public async ValueTask ReleaseAsync(RouteTarget target)
        {
            try
            {
                await Chunks.DisposeAsync();
            }
            finally
            {
                Permit.Dispose();
                target.State.CallEnded();
            }
        }
    }

    private sealed record AttemptFailure(RouteTarget Target, bool ViaFallback, GatewayException Error);

    /// <summary>Carries an admission refusal out of the retry pipeline, whose ShouldHandle does not know this type.</summary>
    private sealed class AdmissionRefusedException(GatewayException refusal) : Exception(refusal.Message)
    {
        public GatewayException Refusal { get; } = refusal;
    }

    /// <summary>What one request tried; the two calls of a hedged pair may write to it at the same time.</summary>
    private sealed class AttemptLog
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public List<AttemptFailure> Failures { get; } = [];

        public List<string> SkippedTargets { get; } = [];

        /// <summary>Counts one more attempt and returns its number.</summary>
        public int Attempted() => Interlocked.Increment(ref _attempts);

        public void Failed(RouteTarget target, bool viaFallback, GatewayException error)
        {
            lock (Failures)
            {
                Failures.Add(new AttemptFailure(target, viaFallback, error));
            }
        }

        public void Skipped(RouteTarget target, bool viaFallback) =>
            SkippedTargets.Add($"{target.Provider}/{target.Model}{(viaFallback ? " (fallback)" : "")}");
    }
}
