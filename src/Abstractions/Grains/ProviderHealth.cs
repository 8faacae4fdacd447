namespace Gatehouse.Grains;

/// <summary>The health of one upstream as the whole cluster observed it.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ProviderHealth")]
public sealed record ProviderHealth
{
    [Id(0)] public required string Provider { get; init; }
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public long Successes { get; init; }
    [Id(3)] public long Failures { get; init; }
    [Id(4)] public long Timeouts { get; init; }
    /// <summary>Exponentially weighted moving average of call latency, in milliseconds.</summary>
    [Id(5)] public double LatencyEwmaMs { get; init; }
    /// <summary>Failed share of the calls in the reports received (0..1), exponentially weighted.</summary>
    [Id(6)] public double ErrorRate { get; init; }
    [Id(7)] public int ReportingSilos { get; init; }
    [Id(8)] public CircuitState Circuit { get; init; }
    /// <summary>Calls in flight across the cluster at the silos' latest reports.</summary>
    [Id(9)] public int InFlight { get; init; }
}
