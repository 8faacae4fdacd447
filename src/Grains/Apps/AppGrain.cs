using System.Collections.Immutable;
using Gatehouse.Grains;
using Orleans.Runtime;

namespace Gatehouse.Apps;

/// <summary>One application's settings and key hashes, persisted through the default grain storage.</summary>
/// <remarks>
/// Every change is written before it is reported to the <see cref="IAppDirectoryGrain"/>, so a silo that sees the
/// directory's new version and then reads the app reads at least that change. A change written whose report failed
/// surfaces as a failed admin call; repeating it reports it.
/// </remarks>
internal sealed class AppGrain(
    [PersistentState("app")] IPersistentState<AppGrainState> state, TimeProvider timeProvider) : Grain, IAppGrain
{
    private IAppDirectoryGrain Directory => GrainFactory.GetGrain<IAppDirectoryGrain>(GrainKeys.AppDirectory);

    public Task<AppRecord?> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(state.State.App);

    public async Task<AppRecord?> CreateAsync(AppSettings settings, CancellationToken cancellationToken = default)
    {
        if (state.State.App is not null)
        {
            return null;
        }

        return await WriteAsync(new AppRecord
        {
            Id = this.GetPrimaryKeyString(),
            Settings = settings,
            Version = 1,
            CreatedAt = timeProvider.GetUtcNow(),
        });
    }

    public async Task<AppRecord?> UpdateAsync(AppSettings settings, long expectedVersion, CancellationToken cancellationToken = default)
    {
        if (state.State.App is not { } app || app.Version != expectedVersion)
        {
            return null;
        }

        return await WriteAsync(app with { Settings = settings, Version = app.Version + 1 });
    }

    public async Task<bool> DeleteAsync(CancellationToken cancellationToken = default)
    {
        if (state.State.App is null)
        {
            return false;
        }

        await state.ClearStateAsync();
        state.State = new AppGrainState();
        await Directory.RemovedAsync(this.GetPrimaryKeyString(), cancellationToken);
        return true;
    }

    public async Task<AppRecord?> AddKeyAsync(AppKey key, CancellationToken cancellationToken = default) =>
        state.State.App is { } app ? await WriteAsync(app with { Keys = app.Keys.Add(key), Version = app.Version + 1 }) : null;

    public async Task<AppKeyRevocation> RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        if (state.State.App is not { } app)
        {
            return AppKeyRevocation.AppNotFound;
        }

        var kept = app.Keys.RemoveAll(k => k.Id == keyId);
        if (kept.Length == app.Keys.Length)
        {
            return AppKeyRevocation.KeyNotFound;
        }

        await WriteAsync(app with { Keys = kept, Version = app.Version + 1 });
        return AppKeyRevocation.Revoked;
    }

    public async Task SeedAsync(AppSettings settings, ImmutableArray<AppKey> configKeys, CancellationToken cancellationToken = default)
    {
        var app = state.State.App;
        var apiKeys = app is null ? [] : app.Keys.RemoveAll(k => k.FromConfig);
        // Config keys keep their first creation time, so a restart that changes nothing writes nothing.
        var seededKeys = configKeys.Select(k => app?.Keys.FirstOrDefault(old => old.FromConfig && old.Hash == k.Hash) is { } old ? k with { CreatedAt = old.CreatedAt } : k);
        var keys = seededKeys.Concat(apiKeys).ToImmutableArray();
        if (app is not null && app.FromConfig && app.Settings.SameAs(settings) && app.Keys.SequenceEqual(keys))
        {
            return;
        }

        await WriteAsync(new AppRecord
        {
            Id = this.GetPrimaryKeyString(),
            Settings = settings,
            Keys = keys,
            Version = (app?.Version ?? 0) + 1,
            FromConfig = true,
            CreatedAt = app?.CreatedAt ?? timeProvider.GetUtcNow(),
        });
    }

    public async Task ForgetConfigAsync(CancellationToken cancellationToken = default)
    {
        if (state.State.App is { FromConfig: true } app)
        {
            await WriteAsync(app with { Keys = app.Keys.RemoveAll(k => k.FromConfig), FromConfig = false, Version = app.Version + 1 });
        }
    }

    private async Task<AppRecord> WriteAsync(AppRecord app)
    {
        state.State = new AppGrainState { App = app };
        await state.WriteStateAsync();
        await Directory.ChangedAsync(app.Id);
        return app;
    }
}
