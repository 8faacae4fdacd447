using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Health;
using Microsoft.Extensions.Time.Testing;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Gatehouse.Routing;
using Gatehouse.Routing.Invokers;
using Xunit;

namespace Gatehouse.Tests.Routing;

public sealed class RoutingPolicyTests
{
    private static readonly IChatGateway Gateway =
        new SimulatedChatGatewayFactory(TimeProvider.System).Create("sim", new ProviderOptions { Kind = ProviderKinds.Simulated, LatencyMs = 0 });

    [Fact]
    public void RoundRobin_ThreeTargets_CyclesInOrder()
    {
        var policy = new RoundRobinPolicy();
        var targets = Targets(1, 1, 1);

        var picks = Enumerable.Range(0, 7).Select(_ => policy.PickFirst(targets)).ToArray();

        Assert.Equal([0, 1, 2, 0, 1, 2, 0], picks);
    }

    [Fact]
    public void RoundRobin_OneTarget_AlwaysPicksIt()
    {
        var policy = new RoundRobinPolicy();
        var targets = Targets(1);

        Assert.All(Enumerable.Range(0, 5).Select(_ => policy.PickFirst(targets)), pick => Assert.Equal(0, pick));
    }

    [Fact]
    public void RoundRobin_ConcurrentPicks_SpreadEvenly()
    {
        var policy = new RoundRobinPolicy();
        var targets = Targets(1, 1, 1, 1);
        var counts = new int[targets.Count];

        Parallel.For(0, 4000, _ => Interlocked.Increment(ref counts[policy.PickFirst(targets)]));

        Assert.Equal([1000, 1000, 1000, 1000], counts);
    }

    [Fact]
    public void Weighted_OneToThree_PicksInProportion()
    {
        var policy = new WeightedPolicy(new Random(20261124));
        var targets = Targets(1, 3);
        var counts = new int[targets.Count];

        for (var i = 0; i < 10_000; i++)
        {
            counts[policy.PickFirst(targets)]++;
        }

        // 25% / 75% within ±3 percentage points of 10,000 picks.
        Assert.InRange(counts[0], 2_200, 2_800);
        Assert.InRange(counts[1], 7_200, 7_800);
        Assert.Equal(10_000, counts[0] + counts[1]);
    }

    [Fact]
    public void Weighted_OneTarget_PicksItWithoutDrawing()
    {
        var policy = new WeightedPolicy(new Random(1));

        Assert.Equal(0, policy.PickFirst(Targets(5)));
    }

    [Fact]
    public void LeastBusy_ClusterLoadDiffers_PicksTheLeastLoadedTarget()
    {
        var policy = new LeastBusyPolicy(new Random(7));
        var targets = Targets(1, 1, 1);
        // Other silos report 5, 1 and 3 calls in flight; this silo has 1 live call on target 1, so totals are 5, 2, 3.
        targets[0].State.Apply(new ProviderStatus { OtherSilosInFlight = 5 });
        targets[1].State.Apply(new ProviderStatus { OtherSilosInFlight = 1 });
        targets[2].State.Apply(new ProviderStatus { OtherSilosInFlight = 3 });
        targets[1].State.CallStarted();

        Assert.All(Enumerable.Range(0, 20).Select(_ => policy.PickFirst(targets)), pick => Assert.Equal(1, pick));

        // Two more local calls make target 1 the busiest of the three (4 vs 5 vs 3): target 2 wins.
        targets[1].State.CallStarted();
        targets[1].State.CallStarted();
        Assert.Equal(2, policy.PickFirst(targets));
    }

    [Fact]
    public void LeastBusy_Tied_SpreadsPicksOverTheTiedTargets()
    {
        var policy = new LeastBusyPolicy(new Random(20261124));
        var targets = Targets(1, 1, 1);
        targets[2].State.CallStarted();
        var counts = new int[targets.Count];

        for (var i = 0; i < 3_000; i++)
        {
            counts[policy.PickFirst(targets)]++;
        }

        Assert.Equal(0, counts[2]);
        Assert.InRange(counts[0], 1_350, 1_650);
        Assert.InRange(counts[1], 1_350, 1_650);
    }

    [Fact]
    public void Latency_OneTargetSlower_PicksTheFasterWheneverBothAreDrawn()
    {
        var time = new FakeTimeProvider();
        var policy = new LatencyPolicy(new Random(3));
        List<RouteTarget> targets = [Target("fast", 1, time), Target("slow", 1, time)];
        targets[0].State.RecordSuccess(TimeSpan.FromMilliseconds(20));
        targets[1].State.RecordSuccess(TimeSpan.FromMilliseconds(200));

        // With two targets both are always drawn, so the faster one always wins.
        Assert.All(Enumerable.Range(0, 50).Select(_ => policy.PickFirst(targets)), pick => Assert.Equal(0, pick));
    }

    [Fact]
    public void Latency_FastTargetLoaded_CostIncludesCallsInFlight()
    {
        var time = new FakeTimeProvider();
        var policy = new LatencyPolicy(new Random(3));
        List<RouteTarget> targets = [Target("fast", 1, time), Target("slow", 1, time)];
        targets[0].State.RecordSuccess(TimeSpan.FromMilliseconds(20));
        targets[1].State.RecordSuccess(TimeSpan.FromMilliseconds(50));
        for (var i = 0; i < 3; i++)
        {
            targets[0].State.CallStarted();
        }

        // 20 ms x (3 + 1) = 80 > 50 ms x 1.
        Assert.Equal(1, policy.PickFirst(targets));
    }

    [Fact]
    public void Latency_PeakEwma_TakesAPeakAtOnceAndForgetsItOverTime()
    {
        var time = new FakeTimeProvider();
        var state = new UpstreamState("p", new ProviderOptions(), time);
        state.RecordSuccess(TimeSpan.FromMilliseconds(10));
        state.RecordSuccess(TimeSpan.FromMilliseconds(100));

        Assert.Equal(100, state.LatencyCost(), precision: 6);

        // After one decay period (10 s) the peak has faded to 100 / e.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(100 / Math.E, state.LatencyCost(), precision: 6);

        // A faster sample now is averaged in with weight 1 - 1/e: 100/e + 10 (1 - 1/e).
        state.RecordSuccess(TimeSpan.FromMilliseconds(10));
        Assert.Equal((100 / Math.E) + (10 * (1 - (1 / Math.E))), state.LatencyCost(), precision: 6);
    }

    [Fact]
    public void Latency_ManyTargets_NeverPicksTheSlowestOfThree()
    {
        var time = new FakeTimeProvider();
        var policy = new LatencyPolicy(new Random(11));
        List<RouteTarget> targets = [Target("a", 1, time), Target("b", 1, time), Target("c", 1, time)];
        targets[0].State.RecordSuccess(TimeSpan.FromMilliseconds(30));
        targets[1].State.RecordSuccess(TimeSpan.FromMilliseconds(300));
        targets[2].State.RecordSuccess(TimeSpan.FromMilliseconds(10));
        var counts = new int[3];

        for (var i = 0; i < 3_000; i++)
        {
            counts[policy.PickFirst(targets)]++;
        }

        // Power of two choices: the slowest loses every draw; the fastest wins both draws it is in (2/3 of them).
        Assert.Equal(0, counts[1]);
        Assert.InRange(counts[2], 1_850, 2_150);
        Assert.Equal(3_000, counts[0] + counts[2]);
    }

    [Theory]
    [InlineData("LeastBusy", RoutingStrategies.LeastBusy)]
    [InlineData("latency", RoutingStrategies.Latency)]
    [InlineData("RoundRobin", RoutingStrategies.RoundRobin)]
    [InlineData("Weighted", RoutingStrategies.Weighted)]
    [InlineData("weighted", RoutingStrategies.Weighted)]
    public void RouteTable_Strategy_CreatesNamedPolicy(string strategy, string expectedPolicy)
    {
        var options = new GatehouseOptions
        {
            Providers = { ["sim"] = new ProviderOptions { Kind = ProviderKinds.Simulated, LatencyMs = 0 } },
            Models =
            {
                ["gpt"] = new ModelOptions
                {
                    Strategy = strategy,
                    Targets = [new TargetOptions { Provider = "sim", Model = "a" }, new TargetOptions { Provider = "sim", Model = "b", Weight = 3 }],
                    Fallbacks = [],
                },
            },
        };

        var table = new RouteTable(options, new ProviderRegistry([new SimulatedChatGatewayFactory(TimeProvider.System)]), new Random(1));

        var alias = table.Find("gpt");
        Assert.NotNull(alias);
        Assert.Equal(expectedPolicy, alias.Policy.Name);
        Assert.Equal(["a", "b"], alias.Targets.Select(t => t.Model));
        Assert.Equal([1.0, 3.0], alias.Targets.Select(t => t.Weight));
        Assert.Null(table.Find("nope"));
    }

    private static List<RouteTarget> Targets(params double[] weights) =>
        [.. weights.Select((weight, i) => Target($"model-{i}", weight, TimeProvider.System))];

    private static RouteTarget Target(string name, double weight, TimeProvider timeProvider) =>
        new("sim", name, weight, new UpstreamState(name, new ProviderOptions(), timeProvider), new AdapterInvoker(Gateway, "sim", name));
}
