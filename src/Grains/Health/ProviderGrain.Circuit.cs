using Gatehouse.Grains;
using Gatehouse.Providers;

namespace Gatehouse.Health;

// The circuit breaker and the cluster's in-flight counts: silos report both with their periodic health reports and
// get the circuit state and the other silos' load back, so an opened circuit reaches every silo within one flush.
internal sealed partial class ProviderGrain
{
    /// <summary>A silo that has not reported for this long no longer counts towards the cluster's in-flight total (it left or died).</summary>
    private static readonly TimeSpan InFlightExpiry = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, (int InFlight, long At)> _inFlightBySilo = new(StringComparer.Ordinal);
    private CircuitBreaker? _circuit;

    private CircuitBreaker Circuit => _circuit ??= CreateCircuit();

    public ValueTask<ProbePermit> TryAcquireProbeAsync(string siloId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Circuit.TryAcquireProbe(siloId));

    public ValueTask<ProviderStatus> ReportProbeResultAsync(string siloId, bool succeeded, CancellationToken cancellationToken = default)
    {
        Circuit.OnProbeResult(siloId, succeeded);
        return ValueTask.FromResult(Status(siloId));
    }

    public ValueTask ReleaseProbeAsync(string siloId, CancellationToken cancellationToken = default)
    {
        Circuit.ReleaseProbe(siloId);
        return ValueTask.CompletedTask;
    }

    private ProviderStatus RecordForCircuit(ProviderHealthReport report)
    {
        _inFlightBySilo[report.SiloId] = (report.InFlight, timeProvider.GetTimestamp());
        Circuit.Record(report.Successes, report.Failures + report.Timeouts, report.TrailingFailures);
        return Status(report.SiloId);
    }

    private ProviderStatus Status(string siloId) => new()
    {
        Circuit = Circuit.State,
        OpenFor = Circuit.OpenFor,
        OtherSilosInFlight = ClusterInFlight(exceptSilo: siloId),
    };

    private int ClusterInFlight(string? exceptSilo)
    {
        var total = 0;
        List<string>? expired = null;
        foreach (var (silo, (inFlight, at)) in _inFlightBySilo)
        {
            if (timeProvider.GetElapsedTime(at) > InFlightExpiry)
            {
                (expired ??= []).Add(silo);
            }
            else if (!string.Equals(silo, exceptSilo, StringComparison.Ordinal))
            {
                total += inFlight;
            }
        }

        foreach (var silo in expired ?? [])
        {
            _inFlightBySilo.Remove(silo);
        }

        return total;
    }

    private CircuitBreaker CreateCircuit()
    {
        var provider = options.Value.Providers.GetValueOrDefault(this.GetPrimaryKeyString()) ?? new ProviderOptions();
        var breaker = provider.CircuitBreaker;
        // A probe that outlives the provider's timeout has failed anyway; the margin covers the report's trip back.
        var lease = TimeSpan.FromSeconds(provider.TimeoutSeconds) + TimeSpan.FromSeconds(5);
        return new CircuitBreaker(breaker.FailureThreshold, TimeSpan.FromSeconds(breaker.BreakSeconds), lease, timeProvider);
    }
}
