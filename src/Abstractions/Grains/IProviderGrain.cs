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
