using System.Collections.Frozen;
using Gatehouse.Configuration;
using Microsoft.Extensions.Options;

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
}

/// <summary>Finds the app a presented key belongs to, by the key's hash.</summary>
/// <remarks>Thread-safe; rebuilt when the configuration changes. Plain keys are never kept.</remarks>
public sealed class AppRegistry : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile FrozenDictionary<string, AppIdentity> _appsByKeyHash;
    private volatile FrozenDictionary<string, AppIdentity> _appsById;

    public AppRegistry(IOptionsMonitor<GatehouseOptions> options)
    {
        (_appsByKeyHash, _appsById) = Build(options.CurrentValue);
        _subscription = options.OnChange(o => (_appsByKeyHash, _appsById) = Build(o));
    }

    /// <summary>The app the key belongs to, or null.</summary>
    public AppIdentity? Authenticate(string? presentedKey) =>
        string.IsNullOrEmpty(presentedKey) ? null : _appsByKeyHash.GetValueOrDefault(AppKeyHasher.Hash(presentedKey));

    public AppIdentity? Find(string appId) => _appsById.GetValueOrDefault(appId);

    public void Dispose() => _subscription?.Dispose();

    private static (FrozenDictionary<string, AppIdentity>, FrozenDictionary<string, AppIdentity>) Build(GatehouseOptions options)
    {
        var byHash = new Dictionary<string, AppIdentity>(StringComparer.Ordinal);
        var byId = new Dictionary<string, AppIdentity>(StringComparer.Ordinal);
        foreach (var (appId, app) in options.Apps)
        {
            var identity = new AppIdentity(appId, app.Models.Count == 0 ? null : app.Models.ToFrozenSet(StringComparer.Ordinal))
            {
                ConfiguredCacheNamespace = app.CacheNamespace,
                CacheAllRequests = app.CacheAllRequests,
            };
            byId[appId] = identity;
            foreach (var key in app.Keys)
            {
                if (AppKeyHasher.TryHashConfiguredKey(key, out _) is { } hash)
                {
                    byHash[hash] = identity;
                }
            }
        }

        return (byHash.ToFrozenDictionary(StringComparer.Ordinal), byId.ToFrozenDictionary(StringComparer.Ordinal));
    }
}
