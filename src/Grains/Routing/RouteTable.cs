using System.Collections.Frozen;
using System.Collections.Immutable;
using Gatehouse.Configuration;
using Gatehouse.Providers;
using Microsoft.Extensions.Options;

namespace Gatehouse.Routing;

/// <summary>One target of an alias, with the adapter that reaches it.</summary>
public sealed record RouteTarget(string Provider, string Model, double Weight, IChatGateway Gateway);

/// <summary>An alias resolved against the providers: its targets, its policy and its fallback aliases.</summary>
public sealed record ResolvedAlias(string Alias, IRoutingPolicy Policy, ImmutableArray<RouteTarget> Targets, ImmutableArray<string> Fallbacks);

/// <summary>Every alias and provider of the current configuration, resolved once so the request path only reads.</summary>
/// <remarks>Thread-safe. Built from validated options; adapters are created once per provider.</remarks>
public sealed class RouteTable
{
    private readonly FrozenDictionary<string, ResolvedAlias> _aliases;

    public RouteTable(IOptions<GatehouseOptions> options, ProviderRegistry providers)
        : this(options.Value, providers, Random.Shared)
    {
    }

    internal RouteTable(GatehouseOptions options, ProviderRegistry providers, Random random)
    {
        var gateways = options.Providers.ToFrozenDictionary(
            p => p.Key, p => providers.Create(p.Key, p.Value), StringComparer.Ordinal);
        Providers = options.Providers.ToFrozenDictionary(StringComparer.Ordinal);

        _aliases = options.Models.ToFrozenDictionary(
            m => m.Key,
            m => new ResolvedAlias(
                m.Key,
                CreatePolicy(m.Value.Strategy, random),
                [.. m.Value.Targets.Select(t => new RouteTarget(t.Provider, t.Model, t.Weight, gateways[t.Provider]))],
                [.. m.Value.Fallbacks]),
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
        _ => new RoundRobinPolicy(),
    };
}
