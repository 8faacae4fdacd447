using System.Collections.Frozen;
using System.Collections.Immutable;
using Gatehouse.Configuration;
using Gatehouse.Health;
using Gatehouse.Providers;
using Microsoft.Extensions.Options;
using Polly;

namespace Gatehouse.Routing;

/// <summary>One target of an alias: the adapter that reaches it, this silo's view of its health, and its retry pipeline.</summary>
public sealed record RouteTarget(string Provider, string Model, double Weight, IChatGateway Gateway, UpstreamState State, ResiliencePipeline Pipeline);

/// <summary>An alias resolved against the providers: its targets, its policy, its fallback aliases and its larger-context aliases.</summary>
public sealed record ResolvedAlias(
    string Alias, IRoutingPolicy Policy, ImmutableArray<RouteTarget> Targets, ImmutableArray<string> Fallbacks, ImmutableArray<string> ContextWindowFallbacks)
{
    /// <summary>The hedging pipeline when the alias sets <c>HedgeAfterMs</c>; null otherwise.</summary>
    public ResiliencePipeline<HedgedAnswer>? Hedging { get; init; }

    /// <summary>The endpoint the alias serves.</summary>
    public ModelType Type { get; init; } = ModelType.Chat;
}

/// <summary>Every alias and provider of the current configuration, resolved once so the request path only reads.</summary>
/// <remarks>Thread-safe. Built from validated options; adapters are created once per provider.</remarks>
public sealed class RouteTable
{
    private readonly FrozenDictionary<string, ResolvedAlias> _aliases;

    public RouteTable(IOptions<GatehouseOptions> options, ProviderRegistry providers, UpstreamStates states, TimeProvider timeProvider)
        : this(options.Value, providers, states, timeProvider, Random.Shared)
    {
    }

    internal RouteTable(GatehouseOptions options, ProviderRegistry providers, Random random)
        : this(options, providers, new UpstreamStates(options, TimeProvider.System), TimeProvider.System, random)
    {
    }

    internal RouteTable(GatehouseOptions options, ProviderRegistry providers, UpstreamStates states, TimeProvider timeProvider, Random random)
    {
        var redactor = UpstreamRedactor.ForProviders(options.Providers.Values);
        var gateways = options.Providers.ToFrozenDictionary(
            p => p.Key, p => providers.Create(p.Key, p.Value, redactor), StringComparer.Ordinal);
        var pipelines = options.Providers.ToFrozenDictionary(
            p => p.Key, p => TargetPipelines.Create(p.Value, timeProvider), StringComparer.Ordinal);
        Providers = options.Providers.ToFrozenDictionary(StringComparer.Ordinal);

        _aliases = options.Models.ToFrozenDictionary(
            m => m.Key,
            m => new ResolvedAlias(
                m.Key,
                CreatePolicy(m.Value.Strategy, random),
                [.. m.Value.Targets.Select(t => new RouteTarget(t.Provider, t.Model, t.Weight, gateways[t.Provider], states.Get(t.Provider), pipelines[t.Provider]))],
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
