using Gatehouse.Configuration;

namespace Gatehouse.Routing;

/// <summary>One upstream model an alias routes to (<c>Models:&lt;alias&gt;:Targets:&lt;n&gt;</c>).</summary>
public sealed class TargetOptions
{
    public string Provider { get; set; } = "";
    public string Model { get; set; } = "";
    [SettingRange(0d, SettingBounds.MaxWeight, MinimumIsExclusive = true)]
    public double Weight { get; set; } = 1;
}
