namespace Gatehouse.Routing;

/// <summary>Picks the target an alias tries first; the others follow in configured order.</summary>
/// <remarks>Implementations are thread-safe: one instance serves every request for an alias on a silo.</remarks>
public interface IRoutingPolicy
{
    string Name { get; }

    /// <summary>The index of the first target to try, in 0..targets.Count-1.</summary>
    int PickFirst(IReadOnlyList<RouteTarget> targets);
}

internal sealed class RoundRobinPolicy : IRoutingPolicy
{
    private int _next = -1;

    public string Name => RoutingStrategies.RoundRobin;

    public int PickFirst(IReadOnlyList<RouteTarget> targets) =>
        targets.Count == 1 ? 0 : (int)((uint)Interlocked.Increment(ref _next) % (uint)targets.Count);
}

internal sealed class WeightedPolicy(Random random) : IRoutingPolicy
{
    public string Name => RoutingStrategies.Weighted;

    public int PickFirst(IReadOnlyList<RouteTarget> targets)
    {
        if (targets.Count == 1)
        {
            return 0;
        }

        var total = 0.0;
        foreach (var target in targets)
        {
            total += target.Weight;
        }

        var point = random.NextDouble() * total;
        for (var i = 0; i < targets.Count; i++)
        {
            point -= targets[i].Weight;
            if (point < 0)
            {
                return i;
            }
        }

        return targets.Count - 1;
    }
}
