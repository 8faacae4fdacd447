using Gatehouse.Configuration;
using Gatehouse.Ledger;
using Microsoft.Extensions.Options;

namespace Gatehouse.Routing;

/// <summary>One model alias.</summary>
public sealed class ModelOptions
{
    /// <summary>The endpoint the alias serves. The default value is <see cref="ModelType.Chat"/>.</summary>
    [DefinedValue]
    public ModelType Type { get; set; } = ModelType.Chat;
    /// <summary>Load-balancing strategy. The default value is <c>RoundRobin</c>.</summary>
    public string Strategy { get; set; } = "RoundRobin";
    [ValidateEnumeratedItems]
    public List<TargetOptions> Targets { get; set; } = [];
    /// <summary>Aliases tried in order when every target failed with a retryable error.</summary>
    public List<string> Fallbacks { get; set; } = [];
    /// <summary>Aliases (with larger context windows) tried in order when a target says the prompt is too long.</summary>
    public List<string> ContextWindowFallbacks { get; set; } = [];
    /// <summary>
    /// When the first target has not answered after this many milliseconds (a whole answer, or a stream's first chunk),
    /// the next target is called too and the first to answer wins (the other call is cancelled). The default value is
    /// null: no hedging.
    /// </summary>
    [SettingRange(1, SettingBounds.MaxMilliseconds)]
    public int? HedgeAfterMs { get; set; }
    [ValidateObjectMembers]
    public PricingOptions? Pricing { get; set; }
}
