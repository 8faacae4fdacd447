using Gatehouse.Apps;

namespace Gatehouse.Grains;

/// <summary>The one directory of app ids (key <see cref="GrainKeys.AppDirectory"/>), persisted, with a change version.</summary>
/// <remarks>Each silo polls <see cref="GetVersionAsync"/> about once a second; that is its only per-silo traffic.</remarks>
[Alias("gatehouse.IAppDirectoryGrain")]
public interface IAppDirectoryGrain : IGrainWithStringKey
{
    [Alias("GetVersion")]
    ValueTask<long> GetVersionAsync(CancellationToken cancellationToken = default);

    [Alias("GetEntries")]
    Task<AppDirectoryEntries> GetEntriesAsync(CancellationToken cancellationToken = default);

    /// <summary>Records that the app exists and has just changed.</summary>
    [Alias("Changed")]
    Task ChangedAsync(string appId, CancellationToken cancellationToken = default);

    [Alias("Removed")]
    Task RemovedAsync(string appId, CancellationToken cancellationToken = default);
}
