using System.Collections.Immutable;
using Gatehouse.Configuration;
using Polly;

namespace Gatehouse.Routing;

/// <summary>An alias resolved against the providers: its targets, its policy, its fallback aliases and its larger-context aliases.</summary>
public sealed record ResolvedAlias(
    string Alias, IRoutingPolicy Policy, ImmutableArray<RouteTarget> Targets, ImmutableArray<string> Fallbacks, ImmutableArray<string> ContextWindowFallbacks)
{
    /// <summary>The hedging pipeline when the alias sets <c>HedgeAfterMs</c>; null otherwise.</summary>
    public ResiliencePipeline<HedgedAnswer>? Hedging { get; init; }

    /// <summary>The endpoint the alias serves.</summary>
    public ModelType Type { get; init; } = ModelType.Chat;
}
