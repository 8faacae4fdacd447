namespace Gatehouse.Grains;

/// <summary>The cluster-wide authority for one upstream (key: the provider name): its health and its buckets.</summary>
/// <remarks>Silos report outcomes and draw bucket leases in batches, off the request path; nothing here is called per request.</remarks>
[Alias("gatehouse.IProviderGrain")]
public interface IProviderGrain : IGrainWithStringKey, IQuotaAuthority
{
    /// <summary>Adds one silo's counters since its previous report.</summary>
    [Alias("ReportHealth")]
    ValueTask ReportHealthAsync(ProviderHealthReport report, CancellationToken cancellationToken = default);

    [Alias("GetHealth")]
    ValueTask<ProviderHealth> GetHealthAsync(CancellationToken cancellationToken = default);
}

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
}

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
}
