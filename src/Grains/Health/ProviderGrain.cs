using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;

namespace Gatehouse.Health;

/// <summary>The cluster-wide view of one upstream's health, fed by every silo's <see cref="ProviderHealthReporter"/>.</summary>
internal sealed partial class ProviderGrain(IOptions<GatehouseOptions> options, TimeProvider timeProvider) : Grain, IProviderGrain
{
    /// <summary>Weight of the newest report in the moving averages.</summary>
    private const double Smoothing = 0.3;

    private readonly HashSet<string> _reporters = new(StringComparer.Ordinal);
    private long _successes;
    private long _failures;
    private long _timeouts;
    private double _latencyEwmaMs;
    private double _errorRate;

    public ValueTask<ProviderStatus> ReportHealthAsync(ProviderHealthReport report, CancellationToken cancellationToken = default)
    {
        _reporters.Add(report.SiloId);
        _successes += report.Successes;
        _failures += report.Failures;
        _timeouts += report.Timeouts;

        if (report.Successes > 0)
        {
            var latency = report.TotalLatencyMs / report.Successes;
            _latencyEwmaMs = _latencyEwmaMs == 0 ? latency : (Smoothing * latency) + ((1 - Smoothing) * _latencyEwmaMs);
        }

        var calls = report.Successes + report.Failures + report.Timeouts;
        if (calls > 0)
        {
            var rate = (double)(report.Failures + report.Timeouts) / calls;
            _errorRate = (Smoothing * rate) + ((1 - Smoothing) * _errorRate);
        }

        return ValueTask.FromResult(RecordForCircuit(report));
    }

    public ValueTask<ProviderHealth> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        var name = this.GetPrimaryKeyString();
        return ValueTask.FromResult(new ProviderHealth
        {
            Provider = name,
            Kind = options.Value.Providers.TryGetValue(name, out var provider) ? provider.Kind : "unknown",
            Successes = _successes,
            Failures = _failures,
            Timeouts = _timeouts,
            LatencyEwmaMs = _latencyEwmaMs,
            ErrorRate = _errorRate,
            ReportingSilos = _reporters.Count,
            Circuit = Circuit.State,
            InFlight = ClusterInFlight(exceptSilo: null),
        });
    }
}
