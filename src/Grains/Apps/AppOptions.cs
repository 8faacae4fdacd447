using Gatehouse.Configuration;
using Gatehouse.RateLimiting;

namespace Gatehouse.Apps;

/// <summary>One application (tenant).</summary>
public sealed class AppOptions : QuotaOptions
{
    /// <summary>The app's keys, in plain text or as <c>sha256:&lt;hex&gt;</c>; only their hashes are kept in memory.</summary>
    public List<string> Keys { get; set; } = [];
    [SettingRange(0d, SettingBounds.MaxBudgetUsdPerDay)]
    public double? BudgetUsdPerDay { get; set; }
    [SettingRange(0d, SettingBounds.MaxBudgetUsdPerMonth)]
    public double? BudgetUsdPerMonth { get; set; }
    /// <summary><c>High</c>, <c>Normal</c> or <c>Low</c>: who is served first when a bucket is empty. The default value is <c>Normal</c>.</summary>
    [DefinedValue]
    public Grains.RequestPriority Priority { get; set; } = Grains.RequestPriority.Normal;
    /// <summary>Completion tokens assumed for this app's requests without <c>max_tokens</c> (app bucket); the provider's or the global default when unset.</summary>
    [SettingRange(1, SettingBounds.MaxTokensEstimate)]
    public int? DefaultMaxTokensEstimate { get; set; }
    /// <summary>Aliases the app may use; every alias when empty.</summary>
    public List<string> Models { get; set; } = [];
    /// <summary>
    /// The cache namespace the app's entries live in; apps naming the same namespace share entries. The default value is
    /// null: the app id, so no other app sees the app's answers.
    /// </summary>
    public string? CacheNamespace { get; set; }
    /// <summary>
    /// Cache and de-duplicate every request of the app, not only deterministic ones (temperature 0 or a seed).
    /// The default value is false.
    /// </summary>
    public bool CacheAllRequests { get; set; }
}
