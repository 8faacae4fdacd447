using Gatehouse.Metrics;
using OpenTelemetry.Metrics;

namespace Gatehouse.Silo.Hosting;

/// <summary>OpenTelemetry for the silo: Gatehouse's and Orleans' meters, exported in Prometheus text on <c>GET /metrics</c>.</summary>
internal static class TelemetryHosting
{
    /// <summary>Orleans' own meter (messaging, grains, membership, watchdog).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>Seconds-scale buckets for every duration histogram: requests take milliseconds to minutes.</summary>
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    public static WebApplicationBuilder AddGatehouseTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatehouseMetrics.MeterName, OrleansMeterName)
            .AddView(instrument => instrument.Meter.Name == GatehouseMetrics.MeterName && instrument.Unit == "s"
                ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets }
                : null)
            // Every scrape sees the counts of that moment (the exporter would otherwise serve a copy up to 300 ms old).
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        return builder;
    }

    public static IEndpointRouteBuilder MapGatehouseMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }
}
