namespace Gatehouse.Grains;

/// <summary>Outcomes one silo observed for one upstream since its previous report.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ProviderHealthReport")]
public sealed record ProviderHealthReport
{
    [Id(0)] public required string SiloId { get; init; }
    [Id(1)] public long Successes { get; init; }
    [Id(2)] public long Failures { get; init; }
    [Id(3)] public long Timeouts { get; init; }
    /// <summary>Sum of the latencies of the calls counted, in milliseconds.</summary>
    [Id(4)] public double TotalLatencyMs { get; init; }
    /// <summary>Failures (timeouts included) since the last success in this report's window: the tail of consecutive failures.</summary>
    [Id(5)] public long TrailingFailures { get; init; }
    /// <summary>Calls this silo had in flight to the upstream when it reported.</summary>
    [Id(6)] public int InFlight { get; init; }
}
