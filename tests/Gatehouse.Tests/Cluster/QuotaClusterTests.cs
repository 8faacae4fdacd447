using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>The distributed buckets on three silos, with every app and silo drawing on one upstream's limit at once.</summary>
public sealed class QuotaClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan LoadPhase = TimeSpan.FromSeconds(4);

    private QuotaCluster _cluster = null!;

    /// <summary>Longer than any admission wait (1.5 s max-wait + a lease request), far shorter than Orleans' 30 s call timeout.</summary>
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(5);

    private int _stalledCalls;

    private System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; } = new();

    private int _appRejections;
    private int _upstreamRejections;

    public async Task InitializeAsync() => _cluster = await QuotaCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Complete_ThreeSilosThreeAppsSaturating_NeverExceedsUpstreamOrAppLimitsAndUsesNinetyPercent()
    {
        await WarmUpAsync();
        var arrivals = RecordArrivals("metered");
        var started = TimeProvider.System.GetUtcNow();

        var admitted = await LoadAsync(_cluster.Cluster.Silos, LoadPhase);

        var ended = TimeProvider.System.GetUtcNow();
        AssertLimitsHeld(arrivals, started, ended);
        // Whole seconds only: the first and last are cut short by the start and end of the load.
        var from = WholeSecondAfter(started);
        var windows = (int)((WholeSecondBefore(ended) - from).Ticks / TimeSpan.TicksPerSecond);
        var measured = arrivals.PerSecond(from, WholeSecondBefore(ended));
        Assert.True(windows >= 2, $"load phase too short to measure: {windows} whole windows");
        var used = measured.Values.Sum() / (double)(windows * QuotaCluster.UpstreamRpm / 60);
        Assert.True(used >= 0.9, $"upstream limit used to {used:P0} over {windows} windows: {Describe(arrivals, started, ended)}; {started:ss.fff}-{ended:ss.fff}; errors: {string.Join("; ", Errors)}; admitted {admitted}, app 429s {_appRejections}, upstream 429s {_upstreamRejections}, authority calls {_cluster.Cluster.Silos.Sum(s => _cluster.LeasesOf(s).AuthorityCalls)}");
        Assert.Equal(admitted, arrivals.All.Count);

    }

    [Fact]
    public async Task Complete_LargeLimitOneSilo_AuthoritiesSeeASmallFractionOfRequests()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[0]);
        var leases = _cluster.LeasesOf(_cluster.Cluster.Silos[0]);
        var patient = new CallOptions { MaxWait = TimeSpan.FromSeconds(5) };
        await Within(pipeline.CompleteAsync(QuotaCluster.App("roomy"), QuotaCluster.Ask("roomy", "warm-up"), patient, default), "warm-up of roomy");
        var before = leases.AuthorityCalls;

        for (var i = 0; i < 300; i++)
        {
            await pipeline.CompleteAsync(QuotaCluster.App("roomy"), QuotaCluster.Ask("roomy", "call"), patient, default);
        }

        // App and upstream authority together: batches grow with this silo's demand, so the calls grow with its square root at most.
        var calls = leases.AuthorityCalls - before;
        Assert.True(calls <= 30, $"{calls} authority calls for 300 requests");
    }

    [Fact]
    public async Task Complete_SiloHoldingLeasesIsKilled_LimitsStillHold()
    {
        var arrivals = RecordArrivals("metered");
        var started = TimeProvider.System.GetUtcNow();
        var victim = _cluster.Cluster.Silos[^1];
        var survivors = _cluster.Cluster.Silos.Take(_cluster.Cluster.Silos.Count - 1).ToList();

        // The victim also hosts the authorities, so the kill takes their state along: the new activations must not re-grant its windows.
        var factory = _cluster.Cluster.Client;
        await _cluster.Cluster.MigrateAsync(factory.GetGrain<IProviderGrain>("metered"), victim.SiloAddress);
        await _cluster.Cluster.MigrateAsync(factory.GetGrain<IAppQuotaGrain>("alpha"), victim.SiloAddress);
        Assert.True(_cluster.Cluster.TryGetGrainContext(factory.GetGrain<IProviderGrain>("metered").GetGrainId(), out var authority));
        Assert.Equal(victim.SiloAddress, authority!.Address.SiloAddress);

        var before = LoadAsync([victim], TimeSpan.FromSeconds(6));
        var others = LoadAsync(survivors, TimeSpan.FromSeconds(8));
        await Within(arrivals.ArrivedFrom(victim.Name), $"silo {victim.Name}: first admitted call before the kill");
        await _cluster.Cluster.KillSiloAsync(victim);
        var killedAt = TimeProvider.System.GetUtcNow();

        // Only the survivors' callers are awaited: calls made through the killed silo's own runtime may never return,
        // as they would not for a process that died (in production the callers die with it).
        _ = before;
        await others;

        // Until the cluster declares the victim dead its authorities cannot be reached, and silos refuse rather than
        // risk an overrun; how long that takes is Orleans' failure detection, not ours. Once it has, new authority
        // activations must grant again — without re-granting what the dead one had leased.
        await Within(_cluster.Cluster.WaitForLivenessToStabilizeAsync(didKill: true), "membership declaring the killed silo dead", TimeSpan.FromSeconds(90));
        var recoveredAt = TimeProvider.System.GetUtcNow();
        await LoadAsync(survivors, TimeSpan.FromSeconds(4));
        var ended = TimeProvider.System.GetUtcNow();
        var afterRecovery = arrivals.All.Count(a => a.At > recoveredAt);
        Assert.True(afterRecovery > 0,
            $"no call was admitted after the cluster recovered at {recoveredAt:ss.fff} (killed {killedAt:ss.fff}, ended {ended:ss.fff}): {Describe(arrivals, started, ended)}; stalled calls {_stalledCalls}; errors: {string.Join("; ", Errors.Take(10))}");
        AssertLimitsHeld(arrivals, started, ended);
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
        Assert.InRange(error.RetryAfter!.Value, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Complete_UpstreamBucketEmptyPastMaxWait_FallsBackToTheNextAlias()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[1]);
        var patient = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(3_000) };
        var first = await pipeline.CompleteAsync(QuotaCluster.App("free"), QuotaCluster.Ask("scarce", "one"), patient, default);

        var impatient = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(50) };
        var second = await Within(
            pipeline.CompleteAsync(QuotaCluster.App("free"), QuotaCluster.Ask("scarce", "two"), impatient, default), "provider scarce: second call past its 50 ms max-wait");

        Assert.Equal("scarce", first.Route!.Provider);
        Assert.Equal("spare", second.Route!.Provider);
        // The refusal by the scarce upstream's bucket happened on this silo: no upstream call, so not an attempt.
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

    /// <summary>
    /// One call per app activates every authority: a fresh authority grants nothing for one window (a previous
    /// activation's leases may still be live), and the upstream's is reached only after an app's, so a cold start costs two windows.
    /// </summary>
    private async Task WarmUpAsync()
    {
        var pipeline = _cluster.PipelineOf(_cluster.Cluster.Silos[0]);
        var patient = new CallOptions { MaxWait = TimeSpan.FromSeconds(5) };
        await Within(
            Task.WhenAll(QuotaCluster.AppRpm.Keys.Select(app => pipeline.CompleteAsync(QuotaCluster.App(app), QuotaCluster.Ask("metered", app), patient, default))),
            "warm-up: first call of every app");
    }

    private ArrivalLog RecordArrivals(string provider)
    {
        var log = new ArrivalLog();
        var upstream = _cluster.Upstreams.Get(provider);
        upstream.GetResponseAsyncCallback = (request, _) =>
        {
            log.Record(request.Messages[^1].Text);
            return Task.FromResult(upstream.Reply(request));
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
                                // counted, and still checked against the limits if it lands.
                                await pipeline.CompleteAsync(QuotaCluster.App(app), QuotaCluster.Ask("metered", $"{app}@{silo.Name}"), options, stop.Token)
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
    /// The upstream: at most its window budget in every second, by arrival time. Apps: an app's admissions are spread
    /// over its windows before the upstream call (a call may then queue for the upstream), so arrival seconds do not
    /// line up with them; what holds exactly is that no more arrived than the budgets of the app windows the run spans.
    /// </summary>
    private static void AssertLimitsHeld(ArrivalLog arrivals, DateTimeOffset from, DateTimeOffset to)
    {
        var upstream = arrivals.PerSecond(from.AddSeconds(-1), to.AddSeconds(1));
        Assert.All(upstream, w => Assert.True(w.Value <= QuotaCluster.UpstreamRpm / 60, $"upstream got {w.Value} in second {w.Key}: {Describe(arrivals, from, to)}"));
        var spannedWindows = (WholeSecondAfter(to) - WholeSecondBefore(from)).Ticks / TimeSpan.TicksPerSecond;
        foreach (var (app, rpm) in QuotaCluster.AppRpm)
        {
            var total = arrivals.PerSecond(from.AddSeconds(-1), to.AddSeconds(1), app).Values.Sum();
            Assert.True(total <= spannedWindows * (rpm / 60), $"app {app}: {total} calls in {spannedWindows} windows of {rpm / 60}: {Describe(arrivals, from, to)}");
        }
    }

    private static string Describe(ArrivalLog arrivals, DateTimeOffset from, DateTimeOffset to) =>
        string.Join(" | ", arrivals.PerSecond(from.AddSeconds(-1), to.AddSeconds(1)).OrderBy(w => w.Key).Select(w =>
            $"{w.Key % 100}s: {w.Value} ({string.Join(",", QuotaCluster.AppRpm.Keys.Select(a => arrivals.PerSecond(new DateTimeOffset(w.Key * TimeSpan.TicksPerSecond, TimeSpan.Zero), new DateTimeOffset((w.Key + 1) * TimeSpan.TicksPerSecond, TimeSpan.Zero), a).Values.Sum()))})"));

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

    private static DateTimeOffset WholeSecondAfter(DateTimeOffset t) => new((t.UtcTicks / TimeSpan.TicksPerSecond + 1) * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private static DateTimeOffset WholeSecondBefore(DateTimeOffset t) => new(t.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
}
