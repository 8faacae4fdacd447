using System.Collections.Concurrent;
using Gatehouse.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Health;

/// <summary>Counts upstream outcomes on this silo and reports them to each <see cref="IProviderGrain"/> about once a second.</summary>
/// <remarks>
/// Recording is a few interlocked adds, so the request path never waits on the provider grain; the flush
/// runs in the background and a failed flush keeps its counts for the next one.
/// </remarks>
public sealed partial class ProviderHealthReporter(IGrainFactory grainFactory, TimeProvider timeProvider, ILogger<ProviderHealthReporter> logger)
    : BackgroundService
{
    /// <summary>How often counters are sent to the provider grains. The default value is 1 second.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Counters> _counters = new(StringComparer.Ordinal);
    private readonly string _reporterId = Guid.NewGuid().ToString("n");

    public void RecordSuccess(string provider, TimeSpan latency)
    {
        var counters = _counters.GetOrAdd(provider, static _ => new Counters());
        Interlocked.Increment(ref counters.Successes);
        Interlocked.Add(ref counters.LatencyMicroseconds, (long)(latency.TotalMilliseconds * 1000));
    }

    public void RecordFailure(string provider, bool timedOut)
    {
        var counters = _counters.GetOrAdd(provider, static _ => new Counters());
        Interlocked.Increment(ref timedOut ? ref counters.Timeouts : ref counters.Failures);
    }

    /// <summary>Sends what was counted since the previous flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var (provider, counters) in _counters)
        {
            var report = new ProviderHealthReport
            {
                SiloId = _reporterId,
                Successes = Interlocked.Exchange(ref counters.Successes, 0),
                Failures = Interlocked.Exchange(ref counters.Failures, 0),
                Timeouts = Interlocked.Exchange(ref counters.Timeouts, 0),
                TotalLatencyMs = Interlocked.Exchange(ref counters.LatencyMicroseconds, 0) / 1000.0,
            };
            if (report is { Successes: 0, Failures: 0, Timeouts: 0 })
            {
                continue;
            }

            try
            {
                await grainFactory.GetGrain<IProviderGrain>(GrainKeys.Provider(provider)).ReportHealthAsync(report, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Interlocked.Add(ref counters.Successes, report.Successes);
                Interlocked.Add(ref counters.Failures, report.Failures);
                Interlocked.Add(ref counters.Timeouts, report.Timeouts);
                Interlocked.Add(ref counters.LatencyMicroseconds, (long)(report.TotalLatencyMs * 1000));
                LogFlushFailed(provider, ex.GetType().Name);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.HealthFlushFailed, Level = LogLevel.Debug, Message = "Could not report health of provider {Provider} ({Error}); will retry")]
    private partial void LogFlushFailed(string provider, string error);

    private sealed class Counters
    {
        public long Successes;
        public long Failures;
        public long Timeouts;
        public long LatencyMicroseconds;
    }
}
