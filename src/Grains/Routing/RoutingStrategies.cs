namespace Gatehouse.Routing;

/// <summary>The names of the load-balancing strategies an alias may use (<c>Models:*:Strategy</c>).</summary>
public static class RoutingStrategies
{
    /// <summary>Each target in turn.</summary>
    public const string RoundRobin = "RoundRobin";
    /// <summary>Targets picked at random in proportion to their <c>Weight</c>.</summary>
    public const string Weighted = "Weighted";

    /// <summary>The strategies this build implements.</summary>
    public static IReadOnlyList<string> All { get; } = [RoundRobin, Weighted];

    public static bool IsKnown(string? name) => name is not null && All.Contains(name, StringComparer.OrdinalIgnoreCase);
}
