namespace Gatehouse.Routing;

/// <summary>The names of the load-balancing strategies an alias may use (<c>Models:*:Strategy</c>).</summary>
public static class RoutingStrategies
{
    /// <summary>Each target in turn.</summary>
    public const string RoundRobin = "RoundRobin";
    /// <summary>Targets picked at random in proportion to their <c>Weight</c>.</summary>
    public const string Weighted = "Weighted";
    /// <summary>The target with the fewest calls in flight across the cluster (YARP <c>LeastRequests</c>).</summary>
    public const string LeastBusy = "LeastBusy";
    /// <summary>The faster of two random targets by peak-EWMA latency times load (YARP <c>PowerOfTwoChoices</c>, Linkerd's cost).</summary>
    public const string Latency = "Latency";

    /// <summary>The strategies this build implements.</summary>
    public static IReadOnlyList<string> All { get; } = [RoundRobin, Weighted, LeastBusy, Latency];

    public static bool IsKnown(string? name) => name is not null && All.Contains(name, StringComparer.OrdinalIgnoreCase);
}
