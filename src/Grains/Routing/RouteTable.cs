using System.Collections.Frozen;
using System.Collections.Immutable;
using Gatehouse.Configuration;
using Gatehouse.Health;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Routing.Invokers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatehouse.Routing;

/// <summary>Every alias and provider of the current configuration, resolved once so the request path only reads.</summary>
/// <remarks>Thread-safe. Built from validated options; adapters are created once per provider, invokers once per target.</remarks>
public sealed class RouteTable
{
    private readonly FrozenDictionary<string, ResolvedAlias> _aliases;

    // The invokers log under the router's category, as they did when the router made the calls itself.
    public RouteTable(
        IOptions<GatehouseOptions> options, ProviderRegistry providers, UpstreamStates states, UpstreamAdmission admission, UsageMeter meter,
        GatehouseMetrics metrics, ILoggerFactory loggerFactory, TimeProvider timeProvider)
        : this(
            options.Value, providers, states, new TargetInvokers(admission, meter, metrics, loggerFactory.CreateLogger<RouterGrain>(), timeProvider), timeProvider,
            Random.Shared)
    {
    }

    /// <summary>A table to test how aliases are resolved: its targets call their adapters bare, with no invoker around them.</summary>
    internal RouteTable(GatehouseOptions options, ProviderRegistry providers, Random random)
        : this(options, providers, new UpstreamStates(options, TimeProvider.System), invokers: null, TimeProvider.System, random)
    {
    }

    /// <param name="options">The validated configuration.</param>
    /// <param name="providers">Creates each provider's adapter.</param>
    /// <param name="states">This silo's view of each provider's health.</param>
    /// <param name="invokers">Builds the invokers around each target's adapter call; null for bare adapters.</param>
    /// <param name="timeProvider">The clock of the retry and hedging pipelines.</param>
    /// <param name="random">The randomness of the load-balancing policies.</param>
    internal RouteTable(GatehouseOptions options, ProviderRegistry providers, UpstreamStates states, TargetInvokers? invokers, TimeProvider timeProvider, Random random)
    {
        var redactor = UpstreamRedactor.ForProviders(options.Providers.Values);
        var gateways = options.Providers.ToFrozenDictionary(
            p => p.Key, p => providers.Create(p.Key, p.Value, redactor), StringComparer.Ordinal);
        var pipelines = options.Providers.ToFrozenDictionary(
            p => p.Key, p => TargetPipelines.Create(p.Value, timeProvider), StringComparer.Ordinal);
        Providers = options.Providers.ToFrozenDictionary(StringComparer.Ordinal);

        RouteTarget Target(string provider, string model, double weight)
        {
            var (gateway, state) = (gateways[provider], states.Get(provider));
            var invoker = invokers?.Create(provider, model, gateway, state, pipelines[provider]) ?? new AdapterInvoker(gateway, provider, model);
            return new RouteTarget(provider, model, weight, state, invoker);
        }

        _aliases = options.Models.ToFrozenDictionary(
            m => m.Key,
            m => new ResolvedAlias(
                m.Key,
                CreatePolicy(m.Value.Strategy, random),
                [.. m.Value.Targets.Select(t => Target(t.Provider, t.Model, t.Weight))],
                [.. m.Value.Fallbacks],
                [.. m.Value.ContextWindowFallbacks])
            {
                Hedging = m.Value.HedgeAfterMs is { } hedgeAfterMs ? TargetPipelines.CreateHedging(TimeSpan.FromMilliseconds(hedgeAfterMs), timeProvider) : null,
                Type = m.Value.Type,
            },
            StringComparer.Ordinal);
        Aliases = [.. _aliases.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>Every alias, sorted.</summary>
    public ImmutableArray<string> Aliases { get; }

    public FrozenDictionary<string, ProviderOptions> Providers { get; }

    public ResolvedAlias? Find(string alias) => _aliases.GetValueOrDefault(alias);

    private static IRoutingPolicy CreatePolicy(string strategy, Random random) => strategy switch
    {
        _ when string.Equals(strategy, RoutingStrategies.Weighted, StringComparison.OrdinalIgnoreCase) => new WeightedPolicy(random),
        _ when string.Equals(strategy, RoutingStrategies.LeastBusy, StringComparison.OrdinalIgnoreCase) => new LeastBusyPolicy(random),
        _ when string.Equals(strategy, RoutingStrategies.Latency, StringComparison.OrdinalIgnoreCase) => new LatencyPolicy(random),
        _ => new RoundRobinPolicy(),
    };
}
