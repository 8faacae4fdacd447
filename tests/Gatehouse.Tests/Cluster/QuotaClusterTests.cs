using Gatehouse.Errors;
using Gatehouse.Grains;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>The distributed buckets on three silos, with every app and silo drawing on one upstream's limit at once.</summary>
public sealed class QuotaClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan LoadPhase = TimeSpan.FromSeconds(3);

    private QuotaCluster _cluster = null!;

    /// <summary>Longer than any admission wait (1.5 s max-wait + a lease request), far shorter than Orleans' 30 s call timeout.</summary>
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(5);

    private int _stalledCalls;

    private System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; } = new();

    private int _appRejections;
    private int _inFlight;
    private int _maxInFlight;
    private int _upstreamRejections;

    public async Task InitializeAsync() => _cluster = await QuotaCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Complete_FreshClusterThreeSilosThreeAppsSaturating_UsesTheWholeBurstAndNeverExceedsALimit()
    {
        var arrivals = RecordArrivals("metered");
        var started = TimeProvider.System.GetUtcNow();

        var admitted = await LoadAsync(_cluster.Cluster.Silos, LoadPhase);

        var ended = TimeProvider.System.GetUtcNow();
        AssertLimitsHeld(arrivals);
        // A cold cluster: the whole burst is available from the first request on, with no warm-up.
        Assert.True(arrivals.All.Count >= QuotaCluster.UpstreamBurst,
            $"only {arrivals.All.Count} calls reached the upstream in {(ended - started).TotalSeconds:0.0} s: {Describe(arrivals)}; errors: {string.Join("; ", Errors)}; app 429s {_appRejections}, upstream 429s {_upstreamRejections}");
        Assert.Equal(admitted, arrivals.All.Count);
    }

    [Fact]
    public async Task Complete_FreshClusterFirstRequestOnEverySilo_IsAnsweredWithoutWaiting()
    {
        var noWait = new CallOptions { MaxWait = TimeSpan.Zero };

        var answers = await Within(
            Task.WhenAll(_cluster.Cluster.Silos.Select(silo =>
                _cluster.PipelineOf(silo).CompleteAsync(QuotaCluster.App("alpha"), QuotaCluster.Ask("metered", "first"), noWait, default))),
            "first request of a fresh cluster on each silo with max-wait 0");

        Assert.All(answers, answer => Assert.Equal("metered", answer.Route!.Provider));
    }

    [Fact]
    public async Task Complete_LargeLimitOneSilo_AuthoritiesSeeASmallFractionOfRequests()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[0]);
        var leases = _cluster.LeasesOf(_cluster.Cluster.Silos[0]);
        var patient = new CallOptions { MaxWait = TimeSpan.FromSeconds(5) };

        for (var i = 0; i < 300; i++)
        {
            await pipeline.CompleteAsync(QuotaCluster.App("roomy"), QuotaCluster.Ask("roomy", "call"), patient, default);
        }

        // App and upstream authority together: batches grow with this silo's demand, so the calls grow with its logarithm.
        var calls = leases.AuthorityCalls;
        Assert.True(calls <= 40, $"{calls} authority calls for 300 requests");
    }

    [Fact]
    public async Task Complete_SiloHostingTheAuthoritiesIsKilled_NewActivationsResumeFromTheRecordAndLimitsHold()
    {
        var arrivals = RecordArrivals("metered");
        var victim = _cluster.Cluster.Silos[^1];
        var survivors = _cluster.Cluster.Silos.Take(_cluster.Cluster.Silos.Count - 1).ToList();

        // The victim hosts the authorities, so the kill takes their activations along: the new activations must
        // resume from the persisted record, neither re-granting what the dead ones handed out nor refusing for long.
        var factory = _cluster.Cluster.Client;
        await _cluster.Cluster.MigrateAsync(factory.GetGrain<IUpstreamQuotaGrain>("metered"), victim.SiloAddress);
        await _cluster.Cluster.MigrateAsync(factory.GetGrain<IAppQuotaGrain>("alpha"), victim.SiloAddress);
        Assert.True(_cluster.Cluster.TryGetGrainContext(factory.GetGrain<IUpstreamQuotaGrain>("metered").GetGrainId(), out var authority));
        Assert.Equal(victim.SiloAddress, authority!.Address.SiloAddress);

        // The victim's callers start first and are served before the survivors' load competes with them for the limit:
        // grants go to whoever asks first, so under a loaded machine the victim could otherwise wait past its whole load.
        var before = LoadAsync([victim], TimeSpan.FromSeconds(4));
        await Within(arrivals.ArrivedFrom(victim.Name), $"silo {victim.Name}: first admitted call before the kill");
        var others = LoadAsync(survivors, TimeSpan.FromSeconds(6));
        await _cluster.Cluster.KillSiloAsync(victim);
        var killedAt = TimeProvider.System.GetUtcNow();

        // Only the survivors' callers are awaited: calls made through the killed silo's own runtime may never return,
        // as they would not for a process that died (in production the callers die with it).
        _ = before;
        await others;

        // Until the cluster declares the victim dead its authorities cannot be reached, and silos refuse rather than
        // risk an overrun; how long that takes is Orleans' failure detection, not ours.
        await Within(_cluster.Cluster.WaitForLivenessToStabilizeAsync(didKill: true), "membership declaring the killed silo dead", TimeSpan.FromSeconds(90));
        var recoveredAt = TimeProvider.System.GetUtcNow();
        await LoadAsync(survivors, TimeSpan.FromSeconds(6));
        var ended = TimeProvider.System.GetUtcNow();
        var afterRecovery = arrivals.All.Where(a => a.At > recoveredAt).OrderBy(a => a.At).ToList();
        Assert.True(afterRecovery.Count > 0,
            $"no call was admitted after the cluster recovered at {recoveredAt:ss.fff} (killed {killedAt:ss.fff}, ended {ended:ss.fff}): {Describe(arrivals)}; stalled calls {_stalledCalls}; app 429s {_appRejections}, upstream 429s {_upstreamRejections}; errors: {string.Join("; ", Errors.Take(3))}");
        AssertLimitsHeld(arrivals);
        Assert.True(_maxInFlight <= QuotaCluster.UpstreamConcurrency, $"{_maxInFlight} calls were in flight at the upstream at once (cap {QuotaCluster.UpstreamConcurrency})");
        Console.WriteLine(
            $"kill drill: killed {killedAt:HH:mm:ss.fff}, declared dead {recoveredAt:HH:mm:ss.fff} ({(recoveredAt - killedAt).TotalSeconds:0.0} s), " +
            $"first grant after {(afterRecovery[0].At - recoveredAt).TotalMilliseconds:0} ms, {arrivals.All.Count} upstream calls, peak in flight {_maxInFlight}, record writes {_cluster.Storage.Writes}");
    }

    [Fact]
    public async Task Complete_AppQuotaEmptyPastMaxWait_FailsRateLimitedWithRetryAfterToNextWindow()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[0]);
        var options = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(3_000) };
        await pipeline.CompleteAsync(QuotaCluster.App("trickle"), QuotaCluster.Ask("spare", "first"), options, default);

        var noWait = new CallOptions { MaxWait = TimeSpan.Zero };
        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            Within(pipeline.CompleteAsync(QuotaCluster.App("trickle"), QuotaCluster.Ask("spare", "second"), noWait, default), "app trickle: second call, quota empty, no wait"));

        Assert.Equal(GatewayError.RateLimited, error.Error);
        // The first unit counts until 60 s after the end of the slot it was granted in; a grant asked for at the end of
        // a slot is made for the next one, so that end is at most 2 s after the grant (as in QuotaEndToEndTests).
        Assert.InRange(error.RetryAfter!.Value, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(62));
    }

    [Fact]
    public async Task Complete_UpstreamBucketEmptyPastMaxWait_FallsBackToTheNextAlias()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[1]);
        var patient = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(3_000) };
        var first = await pipeline.CompleteAsync(QuotaCluster.App("free"), QuotaCluster.Ask("stingy", "one"), patient, default);

        // One a minute: the next unit is a minute away however long the first call took, far past a 50 ms max-wait.
        var impatient = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(50) };
        var second = await Within(
            pipeline.CompleteAsync(QuotaCluster.App("free"), QuotaCluster.Ask("stingy", "two"), impatient, default), "provider stingy: second call past its 50 ms max-wait");

        Assert.Equal("stingy", first.Route!.Provider);
        Assert.Equal("spare", second.Route!.Provider);
        // The refusal by the stingy upstream's bucket happened on this silo: no upstream call, so not an attempt.
        Assert.Equal(1, second.Route.Attempts);
    }

    [Fact]
    public async Task Complete_BucketEmpty_HighPriorityWaiterIsServedBeforeAnEarlierLowOne()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[2]);
        var patient = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(5_000) };
        // Drain the 1-per-second upstream window, then queue a low-priority call before a high-priority one.
        await pipeline.CompleteAsync(QuotaCluster.App("free"), QuotaCluster.Ask("scarce", "drain"), patient, default);
        var low = pipeline.CompleteAsync(QuotaCluster.App("free"), QuotaCluster.Ask("scarce", "low"), patient with { Priority = RequestPriority.Low }, default);
        var high = pipeline.CompleteAsync(QuotaCluster.App("vip"), QuotaCluster.Ask("scarce", "high"), patient, default);

        var highResponse = await Within(high, "provider scarce: high-priority waiter");

        Assert.False(low.IsCompleted, "the low-priority call was served before (or with) the high-priority one");
        Assert.Equal("scarce", highResponse.Route!.Provider);
        var lowResponse = await Within(low, "provider scarce: low-priority waiter");
        Assert.Equal("scarce", lowResponse.Route!.Provider);
    }

    private ArrivalLog RecordArrivals(string provider)
    {
        var log = new ArrivalLog();
        var upstream = _cluster.Upstreams.Get(provider);
        upstream.GetResponseAsyncCallback = async (request, cancellationToken) =>
        {
            log.Record(request.Messages[^1].Text);
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _maxInFlight, now);
            try
            {
                // A real upstream takes time: calls overlap, so the concurrency cap is exercised.
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
                return upstream.Reply(request);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        };
        return log;
    }

    /// <summary>Every app on every given silo calls as fast as it is admitted, four callers each, until the phase ends; returns the admitted count.</summary>
    private async Task<int> LoadAsync(IReadOnlyList<InProcessSiloHandle> silos, TimeSpan phase)
    {
        using var stop = new CancellationTokenSource(phase);
        var admitted = 0;
        var callers = new List<Task>();
        foreach (var silo in silos)
        {
            var pipeline = _cluster.PipelineOf(silo);
            foreach (var app in QuotaCluster.AppRpm.Keys)
            {
                for (var i = 0; i < 4; i++)
                {
                    callers.Add(Task.Run(async () =>
                    {
                        var options = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(1_500) };
                        while (!stop.IsCancellationRequested)
                        {
                            try
                            {
                                // Bounded, so that a call stranded by the silo kill cannot hold the phase open; it is
                                // counted, and still checked against the limits if it lands. Not cancelled at the end
                                // of the phase: a call that reached the upstream is answered and counted as admitted.
                                await pipeline.CompleteAsync(QuotaCluster.App(app), QuotaCluster.Ask("metered", $"{app}@{silo.Name}"), options, default)
                                    .WaitAsync(CallBound);
                                Interlocked.Increment(ref admitted);
                            }
                            catch (TimeoutException)
                            {
                                Interlocked.Increment(ref _stalledCalls);
                            }
                            catch (GatewayException ex) when (ex.Error == GatewayError.RateLimited)
                            {
                                Interlocked.Increment(ref ex.Message.StartsWith("Rate limit reached for app", StringComparison.Ordinal) ? ref _appRejections : ref _upstreamRejections);
                            }
                            catch (Exception) when (stop.IsCancellationRequested)
                            {
                            }
                            catch (Exception ex)
                            {
                                // A killed silo's pipeline fails every call from then on: that caller is done.
                                Errors.Enqueue($"{silo.Name}/{app}: {ex.GetType().Name}: {ex.Message}");
                                return;
                            }
                        }
                    }));
                }
            }
        }

        try
        {
            await Task.WhenAll(callers).WaitAsync(phase + TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"Timed out: load phase of {phase.TotalSeconds} s on {silos.Count} silo(s): {callers.Count(c => !c.IsCompleted)} callers did not stop; errors: {string.Join("; ", Errors.Take(5))}");
        }

        return admitted;
    }

    /// <summary>
    /// The upstream and every app, by arrival time at the upstream: a run is shorter than a minute, so at most each
    /// limit in all; and the upstream's burst allowance: at most <c>Burst + rate × (span + 1 s)</c> in any span, the
    /// second being the lease's life (a unit leased in one second may be spent until that second ends).
    /// </summary>
    private static void AssertLimitsHeld(ArrivalLog arrivals)
    {
        var all = arrivals.All.OrderBy(a => a.At).ToList();
        Assert.True(all.Count <= QuotaCluster.UpstreamRpm, $"upstream got {all.Count} calls within a minute (limit {QuotaCluster.UpstreamRpm}): {Describe(arrivals)}");
        foreach (var (app, rpm) in QuotaCluster.AppRpm)
        {
            var total = all.Count(a => a.App == app);
            Assert.True(total <= rpm, $"app {app}: {total} calls within a minute (limit {rpm}): {Describe(arrivals)}");
        }

        var perSecond = QuotaCluster.UpstreamRpm / 60.0;
        for (var i = 0; i < all.Count; i++)
        {
            for (var j = i; j < all.Count; j++)
            {
                var span = all[j].At - all[i].At;
                var bound = QuotaCluster.UpstreamBurst + (perSecond * (span.TotalSeconds + 1));
                Assert.True(j - i + 1 <= bound, $"{j - i + 1} upstream calls within {span.TotalMilliseconds:0} ms (bound {bound:0.0}) from {all[i].At:ss.fff}: {Describe(arrivals)}");
            }
        }
    }

    private static string Describe(ArrivalLog arrivals) =>
        string.Join(" | ", arrivals.All.GroupBy(a => a.At.UtcTicks / TimeSpan.TicksPerSecond).OrderBy(g => g.Key).Select(g =>
            $"{g.Key % 100}s: {g.Count()} ({string.Join(",", QuotaCluster.AppRpm.Keys.Select(app => g.Count(a => a.App == app)))})"));

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }

    private static async Task<T> Within<T>(Task<T> task, string phase)
    {
        await Within((Task)task, phase);
        return await task;
    }

    private static async Task Within(Task task, string phase, TimeSpan? timeout = null)
    {
        try
        {
            await task.WaitAsync(timeout ?? TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out: {phase}");
        }
    }
}
