using System.Collections.Frozen;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Apps;

/// <summary>An application (tenant) as the request path sees it.</summary>
public sealed record AppIdentity(string AppId, FrozenSet<string>? AllowedModels)
{
    /// <summary>Whether the app may use the alias (every alias when the app lists none).</summary>
    public bool MayUse(string alias) => AllowedModels is null || AllowedModels.Contains(alias);

    /// <summary>The app's configured <c>CacheNamespace</c>, if any.</summary>
    public string? ConfiguredCacheNamespace { get; init; }

    /// <summary>The namespace of the app's cache entries: its configured <c>CacheNamespace</c>, else its id.</summary>
    public string CacheNamespace => ConfiguredCacheNamespace ?? AppId;

    /// <summary>Whether every request of the app is cached, not only deterministic ones.</summary>
    public bool CacheAllRequests { get; init; }

    /// <summary>The app's rate limits: its own buckets (requests and tokens per minute), burst, priority and default token estimate.</summary>
    public AppLimits Limits => field ??= new AppLimits(
        new QuotaScope(QuotaScopeKind.App, AppId, Settings.RequestsPerMinute, Settings.TokensPerMinute),
        Settings.Burst, Settings.Priority, Settings.DefaultMaxTokensEstimate);

    /// <summary>Everything the app's record says (quotas, priority, budgets).</summary>
    public AppSettings Settings { get; init; } = new();

    public static AppIdentity From(AppRecord record) =>
        new(record.Id, record.Settings.Models.IsDefaultOrEmpty ? null : record.Settings.Models.ToFrozenSet(StringComparer.Ordinal))
        {
            ConfiguredCacheNamespace = record.Settings.CacheNamespace,
            CacheAllRequests = record.Settings.CacheAllRequests,
            Settings = record.Settings,
        };
}
