using Gatehouse.Tests.Support;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;

namespace Gatehouse.Tests.Cluster;

/// <summary>The circuit's half-open probe and the wait for recovery across two silos, on fake time.</summary>
[Collection(FakeTimeClusterCollection.Name)]
public sealed class CircuitClusterTests(FakeTimeClusterFixture fixture)
{
    private static readonly TimeSpan Barrier = TimeSpan.FromSeconds(30);

    private static RoutedChatCall Call(string alias, TimeSpan? maxWait = null) => RoutedChatCall.For(
        "tester", new ChatRequest { Model = alias, Messages = [ChatMessage.FromText(ChatRole.User, "hello")] }, new CallOptions { MaxWait = maxWait });

    private Task FlushAsync(InProcessSiloHandleIndex silo) =>
        fixture.ServiceOf<ProviderHealthReporter>(fixture.Cluster.Silos[(int)silo]).FlushAsync(CancellationToken.None);

    private IRouterGrain Router(InProcessSiloHandleIndex silo, string alias) =>
        fixture.GrainFactoryOf(fixture.Cluster.Silos[(int)silo]).GetGrain<IRouterGrain>(alias);

    [Fact]
    public async Task Complete_BreakOver_OneSiloProbesWhileTheOtherSkipsAndTheProbeClosesTheCircuitForBoth()
    {
        var ailing = fixture.Upstreams.Get("ailing");
        ailing.FailWith(GatewayError.UpstreamFailed, 503);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("standby", (await Router(InProcessSiloHandleIndex.A, "ailing-chain").CompleteAsync(Call("ailing-chain"))).Route!.Provider);
        }

        await FlushAsync(InProcessSiloHandleIndex.A);
        await FlushAsync(InProcessSiloHandleIndex.B);
        Assert.Equal(CircuitState.Open, fixture.ServiceOf<UpstreamStates>(fixture.Cluster.Silos[1]).Get("ailing").Circuit);

        // The upstream is back, but slow: the probe stays in flight until the test lets it answer.
        var probeArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probeAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ailing.GetResponseAsyncCallback = async (request, _) =>
        {
            probeArrived.TrySetResult();
            await probeAnswer.Task;
            return ailing.Reply(request);
        };
        fixture.Time.Advance(TimeSpan.FromSeconds(10));

        var probe = Router(InProcessSiloHandleIndex.A, "ailing-chain").CompleteAsync(Call("ailing-chain"));
        await probeArrived.Task.WaitAsync(Barrier);

        // Half-open: silo B is refused the permit, skips the upstream and is answered by the fallback.
        var duringProbe = await Router(InProcessSiloHandleIndex.B, "ailing-chain").CompleteAsync(Call("ailing-chain"));
        Assert.Equal("standby", duringProbe.Route!.Provider);
        Assert.Equal(1, duringProbe.Route.Attempts);
        Assert.Equal(3, ailing.Calls);

        probeAnswer.SetResult();
        var probed = await probe.WaitAsync(Barrier);
        Assert.Equal("ailing", probed.Route!.Provider);
        Assert.Equal(CircuitState.Closed, (await fixture.Cluster.Client.GetGrain<IProviderGrain>("ailing").GetHealthAsync()).Circuit);

        // Silo B learns that the circuit closed from its next report, and sends traffic again.
        await FlushAsync(InProcessSiloHandleIndex.B);
        var afterProbe = await Router(InProcessSiloHandleIndex.B, "ailing-chain").CompleteAsync(Call("ailing-chain"));
        Assert.Equal("ailing", afterProbe.Route!.Provider);
        Assert.Equal(4, ailing.Calls);
        Assert.Equal([.. Enumerable.Repeat(fixture.Cluster.Silos[0].Name, 3), fixture.Cluster.Silos[1].Name], ailing.CallingSilos);
    }

    [Fact]
    public async Task Complete_EveryCircuitOpenWithinMaxWait_WaitsForTheBreakThenProbes()
    {
        var sleepy = fixture.Upstreams.Get("sleepy");
        sleepy.FailWith(GatewayError.UpstreamFailed, 500);
        var router = Router(InProcessSiloHandleIndex.A, "sleepy-solo");
        var failed = await Assert.ThrowsAsync<GatewayException>(() => router.CompleteAsync(Call("sleepy-solo")));
        Assert.Equal(GatewayError.UpstreamFailed, failed.Error);

        // Report now, so that the cluster's break starts when the local one did: advancing the fake clock also fires
        // the reporters' timers, and a failure first reported then would start a later break (legitimately, but not
        // the one this test waits for).
        await FlushAsync(InProcessSiloHandleIndex.A);
        sleepy.Reset();
        // The router's wait for the end of the 5 s break is a timer on the fake clock: the barrier is its creation.
        var waiting = fixture.Time.TimerCreated(TimeSpan.FromSeconds(5));
        var request = router.CompleteAsync(Call("sleepy-solo", maxWait: TimeSpan.FromSeconds(20)));
        await waiting.WaitAsync(Barrier);
        Assert.Equal(0, sleepy.Calls);

        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        var answer = await request.WaitAsync(Barrier);

        Assert.Equal("sleepy", answer.Route!.Provider);
        Assert.Equal(1, answer.Route.Attempts);
        Assert.Equal(1, sleepy.Calls);
    }

    public enum InProcessSiloHandleIndex
    {
        A = 0,
        B = 1,
    }
}
