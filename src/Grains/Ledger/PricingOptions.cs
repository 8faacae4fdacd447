using Gatehouse.Configuration;

namespace Gatehouse.Ledger;

/// <summary>An alias's prices in USD per million tokens (<c>Models:&lt;alias&gt;:Pricing</c>), which the usage ledger charges.</summary>
public sealed class PricingOptions
{
    [SettingRange(0d, SettingBounds.MaxPricePerMillion)]
    public double InputPerMillion { get; set; }
    [SettingRange(0d, SettingBounds.MaxPricePerMillion)]
    public double OutputPerMillion { get; set; }
    /// <summary>The rate of prompt tokens the upstream read from its prompt cache; unset: <see cref="InputPerMillion"/>.</summary>
    [SettingRange(0d, SettingBounds.MaxPricePerMillion)]
    public double? CachedInputPerMillion { get; set; }
}
