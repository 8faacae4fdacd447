using Gatehouse.Grains;
using Orleans.Runtime;

namespace Gatehouse.Apps;

/// <summary>The ids of every app with the version of each one's last change, persisted through the default grain storage.</summary>
/// <remarks>
/// Small by construction (one id and one number per app). The version only grows, also across deletions, so an app
/// deleted and created again between two polls of a silo still has a new version there.
/// </remarks>
internal sealed class AppDirectoryGrain(
    [PersistentState("apps")] IPersistentState<AppDirectoryEntries> state) : Grain, IAppDirectoryGrain
{
    public ValueTask<long> GetVersionAsync(CancellationToken cancellationToken = default) => new(state.State.Version);

    public Task<AppDirectoryEntries> GetEntriesAsync(CancellationToken cancellationToken = default) => Task.FromResult(state.State);

    public Task ChangedAsync(string appId, CancellationToken cancellationToken = default)
    {
        var version = state.State.Version + 1;
        return WriteAsync(new AppDirectoryEntries { Version = version, Apps = state.State.Apps.SetItem(appId, version) });
    }

    public Task RemovedAsync(string appId, CancellationToken cancellationToken = default) =>
        state.State.Apps.ContainsKey(appId)
            ? WriteAsync(new AppDirectoryEntries { Version = state.State.Version + 1, Apps = state.State.Apps.Remove(appId) })
            : Task.CompletedTask;

    private Task WriteAsync(AppDirectoryEntries entries)
    {
        state.State = entries;
        return state.WriteStateAsync();
    }
}
