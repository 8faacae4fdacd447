using System.Collections.Immutable;
using Gatehouse.Apps;

namespace Gatehouse.Grains;

/// <summary>One application (key = app id, <see cref="GrainKeys.App"/>): its settings and key hashes, persisted.</summary>
/// <remarks>
/// Called by the admin API and by each silo's app snapshot when the <see cref="IAppDirectoryGrain"/> says the app
/// changed; never per request. Every change is written to storage, then reported to the directory.
/// </remarks>
[Alias("gatehouse.IAppGrain")]
public interface IAppGrain : IGrainWithStringKey
{
    /// <summary>The app, or null when it does not exist.</summary>
    [Alias("Get")]
    Task<AppRecord?> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates the app; null when it exists already.</summary>
    [Alias("Create")]
    Task<AppRecord?> CreateAsync(AppSettings settings, CancellationToken cancellationToken = default);

    /// <summary>Replaces the settings if the app is still at <paramref name="expectedVersion"/>; null when it is not (or is gone).</summary>
    [Alias("Update")]
    Task<AppRecord?> UpdateAsync(AppSettings settings, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Deletes the app and its keys; false when it did not exist.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a key (hash only); null when the app does not exist.</summary>
    [Alias("AddKey")]
    Task<AppRecord?> AddKeyAsync(AppKey key, CancellationToken cancellationToken = default);

    [Alias("RevokeKey")]
    Task<AppKeyRevocation> RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the app match the config file: its settings and config keys become <paramref name="settings"/> and
    /// <paramref name="configKeys"/>; keys made through the admin API are kept. Writes nothing when it already matches.
    /// </summary>
    [Alias("Seed")]
    Task SeedAsync(AppSettings settings, ImmutableArray<AppKey> configKeys, CancellationToken cancellationToken = default);

    /// <summary>The config file no longer names the app: its config keys stop working, and it is kept as an API app.</summary>
    [Alias("ForgetConfig")]
    Task ForgetConfigAsync(CancellationToken cancellationToken = default);
}
