using Gatehouse.Configuration;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Gatehouse.Routing;
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

    [Theory]
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
        [.. weights.Select((weight, i) => new RouteTarget("sim", $"model-{i}", weight, Gateway))];
}
