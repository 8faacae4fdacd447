using Gatehouse.Health;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Logging;
using Polly;

namespace Gatehouse.Routing.Invokers;

/// <summary>Builds the chain of invokers around each target's adapter call: the one place that decides which invokers run, and in what order.</summary>
/// <remarks>Thread-safe; the route table calls it once per target when it is built.</remarks>
/// <param name="admission">The upstream's buckets and concurrency cap, as this silo's leases.</param>
/// <param name="meter">The usage ledger and upstream metrics.</param>
/// <param name="metrics">For the refusals of the upstream's buckets.</param>
/// <param name="logger">The log of failed attempts and locally opened circuits.</param>
/// <param name="timeProvider">The clock of latencies.</param>
public sealed class TargetInvokers(UpstreamAdmission admission, UsageMeter meter, GatehouseMetrics metrics, ILogger logger, TimeProvider timeProvider)
{
    /// <summary>The invokers of one target, outermost first.</summary>
    /// <param name="provider">The target's provider.</param>
    /// <param name="model">The target's upstream model.</param>
    /// <param name="gateway">The provider's adapter.</param>
    /// <param name="state">This silo's view of the provider's health.</param>
    /// <param name="retry">The provider's retry pipeline.</param>
    public ITargetInvoker Create(string provider, string model, IChatGateway gateway, UpstreamState state, ResiliencePipeline retry) =>
        new TargetInvokerBuilder(new AdapterInvoker(gateway, provider, model))
            // Outermost: each try runs everything below it, so every retry is admitted, metered, tracked and traced.
            .Use(inner => new RetryInvoker(inner, retry))
            .Use(inner => new AdmissionInvoker(inner, admission, metrics, provider))
            // Outside health tracking: the latency the circuit and the Latency strategy learn excludes the ledger's queue.
            .Use(inner => new UsageMeteringInvoker(inner, meter, provider, model, timeProvider))
            .Use(inner => new HealthTrackingInvoker(inner, state, provider, model, logger, timeProvider))
            .Use(inner => new AttemptSpanInvoker(inner, provider, model))
            .Build();
}
