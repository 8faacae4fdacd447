namespace Gatehouse.Routing;

/// <summary>Picks the target an alias tries first; the others follow in configured order (YARP's <c>ILoadBalancingPolicy</c> shape).</summary>
/// <remarks>
/// Implementations are thread-safe: one instance serves every request for an alias on a silo. Randomness and time
/// are injected. The router passes only the targets whose circuit admits traffic, so a policy never picks one that is open.
/// </remarks>
public interface IRoutingPolicy
{
    /// <summary>One of <see cref="RoutingStrategies"/>.</summary>
    string Name { get; }

    /// <summary>The index of the first target to try, in 0..targets.Count-1 (targets is never empty).</summary>
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

/// <summary>
/// The target with the fewest calls in flight across the cluster: the other silos' counts as of the last health
/// report plus this silo's live count, so picking costs no grain call. Ties are broken at random, so silos that
/// all see the same totals do not pile onto the same target.
/// </summary>
internal sealed class LeastBusyPolicy(Random random) : IRoutingPolicy
{
    public string Name => RoutingStrategies.LeastBusy;

    public int PickFirst(IReadOnlyList<RouteTarget> targets)
    {
        if (targets.Count == 1)
        {
            return 0;
        }

        var best = 0;
        var bestLoad = int.MaxValue;
        var ties = 0;
        for (var i = 0; i < targets.Count; i++)
        {
            var load = targets[i].State.ClusterInFlight;
            if (load < bestLoad)
            {
                (best, bestLoad, ties) = (i, load, 1);
            }
            else if (load == bestLoad && random.Next(++ties) == 0)
            {
                // Reservoir sampling: each of the tied targets ends up chosen with equal probability.
                best = i;
            }
        }

        return best;
    }
}

/// <summary>
/// Power of two choices over latency: draws two distinct targets at random and takes the one with the lower
/// peak-EWMA latency times (in-flight + 1) — YARP's <c>PowerOfTwoChoices</c> with Linkerd's cost. Two random
/// candidates rather than the global best keep every silo from stampeding to the same momentarily fastest target.
/// </summary>
internal sealed class LatencyPolicy(Random random) : IRoutingPolicy
{
    public string Name => RoutingStrategies.Latency;

    public int PickFirst(IReadOnlyList<RouteTarget> targets)
    {
        if (targets.Count == 1)
        {
            return 0;
        }

        var first = random.Next(targets.Count);
        var second = random.Next(targets.Count - 1);
        if (second >= first)
        {
            second++;
        }

        return targets[second].State.LatencyCost() < targets[first].State.LatencyCost() ? second : first;
    }
}
