using Gatehouse.Metrics;
using Gatehouse.Tracing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;

namespace Gatehouse.Silo.Hosting;

/// <summary>
/// OpenTelemetry for the silo: Gatehouse's and Orleans' meters, exported in Prometheus text on <c>GET /metrics</c>;
/// and, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, traces (Gatehouse's spans, the grain calls between them, the
/// HTTP request around them) and the same metrics by OTLP. Without it no span is created.
/// </summary>
internal static class TelemetryHosting
{
    /// <summary>Orleans' own meter (messaging, grains, membership, watchdog).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>Seconds-scale buckets for every duration histogram: requests take milliseconds to minutes.</summary>
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    /// <summary>The standard OpenTelemetry variable naming the collector (e.g. <c>http://127.0.0.1:4317</c>).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddGatehouseTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("gatehouse"));
        if (otlp)
        {
            // The exporters read the endpoint, protocol and headers from the standard OTEL_* variables.
            telemetry.WithTracing(tracing => tracing
                .AddSource(GatehouseActivities.SourceName, ActivitySources.ApplicationGrainActivitySourceName, "Microsoft.AspNetCore")
                .AddOtlpExporter());
        }

        telemetry.WithMetrics(metrics => metrics
            .AddMeter(GatehouseMetrics.MeterName, OrleansMeterName)
            .AddView(instrument => instrument.Meter.Name == GatehouseMetrics.MeterName && instrument.Unit == "s"
                ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets }
                : null)
            // Every scrape sees the counts of that moment (the exporter would otherwise serve a copy up to 300 ms old).
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        if (otlp)
        {
            telemetry.WithMetrics(metrics => metrics.AddOtlpExporter());
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapGatehouseMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }
}
