using System.Collections.Frozen;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Options;

namespace Gatehouse.Apps;

/// <summary>This silo's snapshot of every app: finds the app a presented key belongs to, by the key's hash.</summary>
/// <remarks>
/// Thread-safe; a lookup is a dictionary read, never a grain call. Built from the config file at first, and from the
/// app grains once <see cref="AppSnapshotSync"/> has loaded them (<see cref="Replace"/>); from then on the config
/// file reaches it only through the grains it seeds. Plain keys are never kept.
/// </remarks>
public sealed class AppRegistry : IAppLimitsSource, IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile Snapshot _snapshot;
    private volatile bool _fromStorage;

    public AppRegistry(IOptionsMonitor<GatehouseOptions> options)
    {
        _snapshot = Build(FromOptions(options.CurrentValue));
        _subscription = options.OnChange(o =>
        {
            if (!_fromStorage)
            {
                _snapshot = Build(FromOptions(o));
            }
        });
    }

    private AppRegistry(GatehouseOptions options) => _snapshot = Build(FromOptions(options));

    /// <summary>A registry of the config file's apps that never changes (for code and tests without a silo).</summary>
    public static AppRegistry FromConfiguration(GatehouseOptions options) => new(options);

    /// <summary>The app the key belongs to, or null.</summary>
    public AppIdentity? Authenticate(string? presentedKey) =>
        string.IsNullOrEmpty(presentedKey) ? null : _snapshot.ByKeyHash.GetValueOrDefault(AppKeyHasher.Hash(presentedKey));

    public AppIdentity? Find(string appId) => _snapshot.ById.GetValueOrDefault(appId);

    public AppLimits? FindLimits(string appId) => Find(appId)?.Limits;

    /// <summary>Replaces the snapshot with the apps loaded from their grains.</summary>
    public void Replace(IEnumerable<AppRecord> apps)
    {
        _fromStorage = true;
        _snapshot = Build(apps);
    }

    public void Dispose() => _subscription?.Dispose();

    private static IEnumerable<AppRecord> FromOptions(GatehouseOptions options) =>
        options.Apps.Select(a => ConfiguredApps.Record(a.Key, a.Value, DateTimeOffset.UnixEpoch));

    private static Snapshot Build(IEnumerable<AppRecord> apps)
    {
        var byHash = new Dictionary<string, AppIdentity>(StringComparer.Ordinal);
        var byId = new Dictionary<string, AppIdentity>(StringComparer.Ordinal);
        foreach (var app in apps)
        {
            var identity = AppIdentity.From(app);
            byId[app.Id] = identity;
            foreach (var key in app.Keys)
            {
                byHash[key.Hash] = identity;
            }
        }

        return new Snapshot(byHash.ToFrozenDictionary(StringComparer.Ordinal), byId.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private sealed record Snapshot(FrozenDictionary<string, AppIdentity> ByKeyHash, FrozenDictionary<string, AppIdentity> ById);
}
