using Gatehouse.Configuration;

namespace Gatehouse.RateLimiting;

/// <summary>
/// The cluster-wide quota of a provider or an app (<c>Providers:&lt;name&gt;</c>, <c>Apps:&lt;id&gt;</c>): the settings
/// sit directly in the entry, so both write them the same way.
/// </summary>
public abstract class QuotaOptions
{
    /// <summary>At most this many requests in any 60 seconds, across the cluster.</summary>
    [SettingRange(1, SettingBounds.MaxRequestsPerMinute)]
    public int? RequestsPerMinute { get; set; }
    /// <summary>How many of <see cref="RequestsPerMinute"/> may start at once when the bucket is full (1..RequestsPerMinute). The default value is the whole limit.</summary>
    [SettingRange(1, SettingBounds.MaxRequestsPerMinute)]
    public int? Burst { get; set; }
    /// <summary>At most this many tokens in any 60 seconds, across the cluster.</summary>
    [SettingRange(1, SettingBounds.MaxTokensPerMinute)]
    public int? TokensPerMinute { get; set; }
}
