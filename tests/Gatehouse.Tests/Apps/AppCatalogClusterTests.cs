using Gatehouse.Apps;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Apps;

public sealed class AppCatalogClusterTests
{
    private const string NewKey = "gk-new-FAKE-key-for-tests-0123456789";

    [Fact]
    public async Task Start_ConfigApp_IsSeededAndInEverySnapshot()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();

        var record = await cluster.Grains.GetGrain<IAppGrain>("seeded").GetAsync();
        Assert.NotNull(record);
        Assert.True(record.FromConfig);
        Assert.Equal(50, record.Settings.RequestsPerMinute);
        Assert.Equal(["chat"], record.Settings.Models.AsEnumerable());
        Assert.Equal(AppKeyHasher.Hash(AppCatalogCluster.SeededKey), Assert.Single(record.Keys).Hash);
        for (var silo = 0; silo < 2; silo++)
        {
            Assert.Equal("seeded", cluster.RegistryOf(silo).Authenticate(AppCatalogCluster.SeededKey)?.AppId);
        }
    }

    [Fact]
    public async Task CreateAndAddKey_AfterRefresh_EverySiloAuthenticatesWithTheAppsLimits()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();
        var app = cluster.Grains.GetGrain<IAppGrain>("made");

        Assert.NotNull(await app.CreateAsync(new AppSettings { RequestsPerMinute = 7, Models = ["chat"] }));
        Assert.NotNull(await app.AddKeyAsync(Key("k1", NewKey)));
        await cluster.RefreshAllAsync();

        for (var silo = 0; silo < 2; silo++)
        {
            var identity = cluster.RegistryOf(silo).Authenticate(NewKey);
            Assert.Equal("made", identity?.AppId);
            Assert.False(identity!.MayUse("other"));
            Assert.Equal(7, cluster.ServicesOf(silo).GetRequiredService<QuotaScopes>().App("made").RequestsPerMinute);
        }
    }

    [Fact]
    public async Task Create_ExistingId_ReturnsNull()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();

        Assert.Null(await cluster.Grains.GetGrain<IAppGrain>("seeded").CreateAsync(new AppSettings()));
    }

    [Fact]
    public async Task RevokeKey_AfterRefresh_NoSiloAuthenticatesIt()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();
        var app = cluster.Grains.GetGrain<IAppGrain>("made");
        await app.CreateAsync(new AppSettings());
        await app.AddKeyAsync(Key("k1", NewKey));
        await cluster.RefreshAllAsync();

        Assert.Equal(AppKeyRevocation.Revoked, await app.RevokeKeyAsync("k1"));
        Assert.Equal(AppKeyRevocation.KeyNotFound, await app.RevokeKeyAsync("k1"));
        await cluster.RefreshAllAsync();

        Assert.Null(cluster.RegistryOf(0).Authenticate(NewKey));
        Assert.Null(cluster.RegistryOf(1).Authenticate(NewKey));
    }

    [Fact]
    public async Task DeleteAndRecreate_BetweenRefreshes_SnapshotHasOnlyTheNewKeys()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();
        var app = cluster.Grains.GetGrain<IAppGrain>("made");
        await app.CreateAsync(new AppSettings());
        await app.AddKeyAsync(Key("k1", NewKey));
        await cluster.RefreshAllAsync();

        Assert.True(await app.DeleteAsync());
        Assert.False(await app.DeleteAsync());
        await app.CreateAsync(new AppSettings());
        await app.AddKeyAsync(Key("k2", NewKey + "-2"));
        await cluster.RefreshAllAsync();

        Assert.Null(cluster.RegistryOf(1).Authenticate(NewKey));
        Assert.Equal("made", cluster.RegistryOf(1).Authenticate(NewKey + "-2")?.AppId);
    }

    [Fact]
    public async Task Update_StaleVersion_ReturnsNullAndKeepsTheRecord()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();
        var app = cluster.Grains.GetGrain<IAppGrain>("made");
        var created = await app.CreateAsync(new AppSettings { RequestsPerMinute = 1 });

        var updated = await app.UpdateAsync(created!.Settings with { RequestsPerMinute = 2 }, created.Version);
        var stale = await app.UpdateAsync(created.Settings with { RequestsPerMinute = 3 }, created.Version);

        Assert.Equal(2, updated?.Settings.RequestsPerMinute);
        Assert.Null(stale);
        Assert.Equal(2, (await app.GetAsync())?.Settings.RequestsPerMinute);
    }

    [Fact]
    public async Task Seed_Again_WritesNothingAndKeepsApiKeys()
    {
        var storage = new SharedGrainStorage();
        await using var cluster = await AppCatalogCluster.StartAsync(storage);
        var app = cluster.Grains.GetGrain<IAppGrain>("seeded");
        await app.AddKeyAsync(Key("api", NewKey));
        var before = await app.GetAsync();

        var sync = cluster.ServicesOf(1).GetRequiredService<AppSnapshotSync>();
        var writes = storage.Writes;
        await sync.SeedAsync(CancellationToken.None);

        var after = await app.GetAsync();
        Assert.Equal(writes, storage.Writes);
        Assert.Equal(before!.Version, after!.Version);
        Assert.Equal(["config-1", "api"], after.Keys.Select(k => k.Id));
    }

    [Fact]
    public async Task Seed_AfterPatch_ConfigFileWinsForItsApp()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();
        var app = cluster.Grains.GetGrain<IAppGrain>("seeded");
        var current = await app.GetAsync();
        await app.UpdateAsync(current!.Settings with { RequestsPerMinute = 9 }, current.Version);

        await cluster.ServicesOf(0).GetRequiredService<AppSnapshotSync>().SeedAsync(CancellationToken.None);

        Assert.Equal(50, (await app.GetAsync())?.Settings.RequestsPerMinute);
    }

    [Fact]
    public async Task ForgetConfig_AppNoLongerInFile_ConfigKeysStopWorkingApiKeysStay()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();
        var app = cluster.Grains.GetGrain<IAppGrain>("seeded");
        await app.AddKeyAsync(Key("api", NewKey));

        await app.ForgetConfigAsync();
        await cluster.RefreshAllAsync();

        Assert.Null(cluster.RegistryOf(1).Authenticate(AppCatalogCluster.SeededKey));
        Assert.Equal("seeded", cluster.RegistryOf(1).Authenticate(NewKey)?.AppId);
        Assert.False((await app.GetAsync())!.FromConfig);
    }

    [Fact]
    public async Task Refresh_NothingChanged_DoesNotReplaceTheSnapshot()
    {
        await using var cluster = await AppCatalogCluster.StartAsync();

        Assert.False(await cluster.ServicesOf(0).GetRequiredService<AppSnapshotSync>().RefreshAsync(CancellationToken.None));
    }

    private static AppKey Key(string id, string key) =>
        new() { Id = id, Hash = AppKeyHasher.Hash(key), Prefix = AppKeyGenerator.PrefixOf(key), CreatedAt = DateTimeOffset.UnixEpoch };
}
