using Gatehouse.Configuration;
using Gatehouse.Health;

namespace Gatehouse.Routing;

/// <summary>Silo-wide routing settings (<c>Gatehouse:Routing</c>).</summary>
public sealed class RoutingOptions
{
    /// <summary>
    /// The whole request's wait deadline when it sends no <c>x-gatehouse-max-wait-ms</c>: app quota, every target's
    /// buckets and slots, and the wait for a recovery probe when every target is behind an open circuit, together.
    /// The default value is 5000 ms.
    /// </summary>
    [SettingRange(0, SettingBounds.MaxMilliseconds)]
    public int MaxWaitMs { get; set; } = ResilienceConstants.DefaultMaxWaitMs;
}
