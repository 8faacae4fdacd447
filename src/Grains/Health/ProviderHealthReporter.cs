using Gatehouse.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Health;

/// <summary>
/// Reports this silo's upstream outcomes and in-flight counts to each <see cref="IProviderGrain"/> every
/// <see cref="FlushInterval"/>, and applies what comes back: the cluster's circuit state and the other silos' load.
/// </summary>
/// <remarks>
/// Recording is a few interlocked adds on <see cref="UpstreamState"/>, so the request path never waits on a provider
/// grain; the flush runs in the background and a failed flush keeps its counts for the next one. Every provider is
/// reported each time, even with nothing to count, because the answer is how an opened circuit reaches this silo.
/// </remarks>
public sealed partial class ProviderHealthReporter(
    IGrainFactory grainFactory, UpstreamStates states, TimeProvider timeProvider, ILogger<ProviderHealthReporter> logger)
    : BackgroundService
{
    /// <summary>How often counters are sent and circuit states learned. The default value is 1 second.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Sends what was counted since the previous flush, and applies each provider grain's answer.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var state in states.All)
        {
            var tripVersion = state.TripVersion;
            var report = state.TakeReport(states.SiloId);
            try
            {
                var status = await grainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(state.Provider))
                    .ReportHealthAsync(report, cancellationToken).ConfigureAwait(false);
                state.Apply(status, tripVersion);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                state.Restore(report);
                LogFlushFailed(state.Provider, ex.GetType().Name);
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(FlushInterval, timeProvider, FlushAsync, stoppingToken);

    [LoggerMessage(EventId = GatehouseEventIds.HealthFlushFailed, Level = LogLevel.Debug, Message = "Could not report health of provider {Provider} ({Error}); will retry")]
    private partial void LogFlushFailed(string provider, string error);
}
