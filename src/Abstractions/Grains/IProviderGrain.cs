namespace Gatehouse.Grains;

/// <summary>The cluster-wide view of one upstream (key: the provider name): its health and its circuit.</summary>
/// <remarks>
/// Silos report outcomes off the request path and learn the circuit state from the answer to their reports. The only
/// per-request calls are <see cref="TryAcquireProbeAsync"/> and <see cref="ReportProbeResultAsync"/>, made once per
/// recovery probe while the circuit is half-open. The upstream's buckets are the <see cref="IUpstreamQuotaGrain"/>'s.
/// </remarks>
[Alias("gatehouse.IProviderGrain")]
public interface IProviderGrain : IGrainWithStringKey
{
    /// <summary>Adds one silo's counters since its previous report; answers with the circuit state and the other silos' load.</summary>
    [Alias("ReportHealth")]
    ValueTask<ProviderStatus> ReportHealthAsync(ProviderHealthReport report, CancellationToken cancellationToken = default);

    [Alias("GetHealth")]
    ValueTask<ProviderHealth> GetHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks to send the single recovery probe of a half-open circuit. Granted to one caller at a time; a closed
    /// circuit answers with <see cref="CircuitState.Closed"/> (no probe needed), an open one with when to ask again.
    /// </summary>
    [Alias("TryAcquireProbe")]
    ValueTask<ProbePermit> TryAcquireProbeAsync(string siloId, CancellationToken cancellationToken = default);

    /// <summary>Reports the outcome of a probe granted by <see cref="TryAcquireProbeAsync"/>: success closes the circuit, failure re-opens it.</summary>
    [Alias("ReportProbeResult")]
    ValueTask<ProviderStatus> ReportProbeResultAsync(string siloId, bool succeeded, CancellationToken cancellationToken = default);

    /// <summary>Gives back a probe permit whose request ended without a verdict (the caller cancelled), so another request may probe now.</summary>
    [Alias("ReleaseProbe")]
    ValueTask ReleaseProbeAsync(string siloId, CancellationToken cancellationToken = default);
}

/// <summary>The state of an upstream's circuit breaker.</summary>
public enum CircuitState
{
    /// <summary>Traffic flows.</summary>
    Closed = 0,
    /// <summary>The upstream failed too often: no traffic until the break ends.</summary>
    Open = 1,
    /// <summary>The break is over: one probe at a time decides whether the circuit closes or opens again.</summary>
    HalfOpen = 2,
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
    /// <summary>Failures (timeouts included) since the last success in this report's window: the tail of consecutive failures.</summary>
    [Id(5)] public long TrailingFailures { get; init; }
    /// <summary>Calls this silo had in flight to the upstream when it reported.</summary>
    [Id(6)] public int InFlight { get; init; }
}

/// <summary>What a silo learns back from the provider grain: the circuit state and the rest of the cluster's load.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ProviderStatus")]
public sealed record ProviderStatus
{
    [Id(0)] public CircuitState Circuit { get; init; }
    /// <summary>For an open circuit: how long until the break ends (a duration, because silos' clocks differ).</summary>
    [Id(1)] public TimeSpan OpenFor { get; init; }
    /// <summary>Calls the other silos had in flight at their latest reports.</summary>
    [Id(2)] public int OtherSilosInFlight { get; init; }
}

/// <summary>The answer to a probe request.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ProbePermit")]
public sealed record ProbePermit
{
    /// <summary>Whether the caller may send a request: the probe of a half-open circuit, or any request when <see cref="Circuit"/> is closed.</summary>
    [Id(0)] public bool Granted { get; init; }
    [Id(1)] public CircuitState Circuit { get; init; }
    /// <summary>When refused: how long until it is worth asking again.</summary>
    [Id(2)] public TimeSpan RetryAfter { get; init; }
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
    [Id(8)] public CircuitState Circuit { get; init; }
    /// <summary>Calls in flight across the cluster at the silos' latest reports.</summary>
    [Id(9)] public int InFlight { get; init; }
}
