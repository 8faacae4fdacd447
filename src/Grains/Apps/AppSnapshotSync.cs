using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Gatehouse.Apps;

/// <summary>
/// Keeps this silo's <see cref="AppRegistry"/> equal to the app grains: seeds the config file's apps when the silo
/// starts, loads every app, then polls the <see cref="IAppDirectoryGrain"/>'s version every
/// <see cref="PollInterval"/> and reloads only the apps whose version changed.
/// </summary>
/// <remarks>
/// Polling a version is one small grain call per silo per second, whatever the traffic, and needs no subscription
/// that a silo restart or a directory move could lose: a change reaches every silo within one interval plus a
/// reload. The silo becomes active only after the first load, so it never serves requests from a stale snapshot.
/// </remarks>
public sealed partial class AppSnapshotSync(
    IGrainFactory grainFactory, AppRegistry registry, IOptions<GatehouseOptions> options, TimeProvider timeProvider, ILogger<AppSnapshotSync> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How often the directory's version is read: well inside the 5-second promise.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, (long Version, AppRecord App)> _loaded = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private long _loadedVersion = -1;
    private Task? _polling;

    /// <summary>Whether the first load from the app grains has completed (until then the snapshot holds the config file's apps).</summary>
    public bool IsLoaded => Interlocked.Read(ref _loadedVersion) >= 0;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(AppSnapshotSync), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>Seeds the config file's apps into their grains (see the README for the rule).</summary>
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var apps = options.Value.Apps;
        await Task.WhenAll(apps.Select(a => grainFactory.GetGrain<IAppGrain>(GrainKeys.App(a.Key))
            .SeedAsync(ConfiguredApps.Settings(a.Value), ConfiguredApps.Keys(a.Value, now), cancellationToken)));
        LogSeeded(logger, apps.Count);
    }

    /// <summary>Reloads what changed since the last call; true when the snapshot was replaced.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var directory = grainFactory.GetGrain<IAppDirectoryGrain>(GrainKeys.AppDirectory);
        if (await directory.GetVersionAsync(cancellationToken) == _loadedVersion)
        {
            return false;
        }

        var entries = await directory.GetEntriesAsync(cancellationToken);
        var changed = entries.Apps.Where(e => !_loaded.TryGetValue(e.Key, out var loaded) || loaded.Version != e.Value).ToList();
        var records = await Task.WhenAll(changed.Select(e => grainFactory.GetGrain<IAppGrain>(GrainKeys.App(e.Key)).GetAsync(cancellationToken)));
        foreach (var gone in _loaded.Keys.Where(id => !entries.Apps.ContainsKey(id)).ToList())
        {
            _loaded.Remove(gone);
        }

        for (var i = 0; i < changed.Count; i++)
        {
            if (records[i] is { } record)
            {
                _loaded[record.Id] = (changed[i].Value, record);
            }
            else
            {
                // Deleted after the directory was read: the next version says so.
                _loaded.Remove(changed[i].Key);
            }
        }

        registry.Replace(_loaded.Values.Select(v => v.App));
        Interlocked.Exchange(ref _loadedVersion, entries.Version);
        LogLoaded(logger, _loaded.Count, entries.Version);
        return true;
    }

    /// <summary>Config-file apps the file no longer names lose their config keys (a key removed from the file must stop working).</summary>
    public async Task ForgetRemovedConfigAppsAsync(CancellationToken cancellationToken)
    {
        var configured = options.Value.Apps;
        var removed = _loaded.Values.Select(v => v.App).Where(a => a.FromConfig && !configured.ContainsKey(a.Id)).ToList();
        await Task.WhenAll(removed.Select(a => grainFactory.GetGrain<IAppGrain>(GrainKeys.App(a.Id)).ForgetConfigAsync(cancellationToken)));
        if (removed.Count > 0)
        {
            await RefreshAsync(cancellationToken);
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await SeedAsync(cancellationToken);
        await RefreshAsync(cancellationToken);
        await ForgetRemovedConfigAppsAsync(cancellationToken);
        _polling = PollAsync(_stopping.Token);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_polling is not null)
        {
            await _polling.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(PollInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The snapshot stays as it was; the next tick tries again.
                    LogLoadFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.AppSnapshotLoadFailed, Level = LogLevel.Warning, Message = "Could not refresh the app snapshot; keeping the current one")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = GatehouseEventIds.AppSnapshotLoaded, Level = LogLevel.Debug, Message = "Loaded the app snapshot: {Count} apps at directory version {Version}")]
    private static partial void LogLoaded(ILogger logger, int count, long version);

    [LoggerMessage(EventId = GatehouseEventIds.AppsSeeded, Level = LogLevel.Information, Message = "Seeded {Count} apps from the config file")]
    private static partial void LogSeeded(ILogger logger, int count);
}
