using Gatehouse.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;

namespace Gatehouse.Tests.Postgres;

/// <summary>
/// The defunct-silo clean-up of the 10.4.2 clustering provider, both ways it can run: with the optional
/// <c>CleanupDefunctSiloEntryKey</c> (each dead row deleted only if unchanged since read) and, on a database
/// without it, with <c>CleanupDefunctSiloEntriesKey</c> (one delete by cut-off).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MembershipCleanupTests(TestPostgres postgres)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Only_dead_silos_not_heard_of_since_the_cut_off_are_removed(bool withPerRowQuery)
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        if (!withPerRowQuery)
        {
            await Sql.ListAsync(database, "DELETE FROM orleansquery WHERE querykey = 'CleanupDefunctSiloEntryKey' RETURNING 1");
        }

        var table = await TableAsync(database, "cleanup");
        var now = DateTime.UtcNow;
        var oldDead = Entry(1, SiloStatus.Dead, now.AddHours(-3), now.AddHours(-2));
        var recentDead = Entry(2, SiloStatus.Dead, now.AddHours(-3), now.AddMinutes(-1));
        var oldActive = Entry(3, SiloStatus.Active, now.AddHours(-3), now.AddHours(-2));
        foreach (var entry in new[] { oldDead, recentDead, oldActive })
        {
            var version = (await table.ReadAllAsync()).Version;
            Assert.True(await table.InsertRowAsync(entry, version.Next()));
        }

        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(now.AddHours(-1)));

        var left = (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order();
        Assert.Equal([2, 3], left);
    }

    [Fact]
    public async Task A_membership_write_with_a_stale_table_version_changes_nothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        var table = await TableAsync(database, "versions");
        var stale = (await table.ReadAllAsync()).Version;
        Assert.True(await table.InsertRowAsync(Entry(1, SiloStatus.Joining, DateTime.UtcNow, DateTime.UtcNow), stale.Next()));

        Assert.False(await table.InsertRowAsync(Entry(2, SiloStatus.Joining, DateTime.UtcNow, DateTime.UtcNow), stale.Next()));
        var read = await table.ReadAllAsync();
        var (entry, etag) = Assert.Single(read.Members);
        entry.Status = SiloStatus.Active;
        Assert.False(await table.UpdateRowAsync(entry, stale.VersionEtag, stale.Next()));
        Assert.True(await table.UpdateRowAsync(entry, etag, read.Version.Next()));
        Assert.Equal(SiloStatus.Active, (await table.ReadRowAsync(entry.SiloAddress)).Members.Single().Item1.Status);
        Assert.Equal(read.Version.Version + 1, (await table.ReadAllAsync()).Version.Version);
    }

    private static async Task<AdoNetClusteringTable> TableAsync(string database, string clusterId)
    {
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = clusterId }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = OrleansOnPostgres.Invariant, ConnectionString = database }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    private static MembershipEntry Entry(int port, SiloStatus status, DateTime started, DateTime alive) => new()
    {
        SiloAddress = SiloAddress.New(System.Net.IPAddress.Loopback, port, 1),
        SiloName = $"silo-{port}",
        HostName = "test-host",
        Status = status,
        ProxyPort = 30000 + port,
        StartTime = started,
        IAmAliveTime = alive,
    };
}
