using Gatehouse.Silo.Storage;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Messaging;
using Orleans.Serialization;
using Orleans.Storage;

namespace Gatehouse.Tests.Postgres;

/// <summary>The Orleans 10.4.2 ADO.NET providers, in real silos, on a database the schema step made.</summary>
[Collection(PostgresCollection.Name)]
public sealed class OrleansProvidersTests(TestPostgres postgres)
{
    private const int Active = 3;
    private const int Dead = 6;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Two_silos_join_clients_find_their_gateways_and_a_stopped_silo_is_cleaned_up()
    {
        var database = await Migrated();
        var clusterId = $"c-{Guid.NewGuid():N}";
        using var first = OrleansOnPostgres.Silo(database, clusterId, "first");
        using var second = OrleansOnPostgres.Silo(database, clusterId, "second");
        await first.StartAsync().Within("the first silo to start", Deadline);
        await second.StartAsync().Within("the second silo to start", Deadline);

        var members = (await first.Service<IMembershipTable>().ReadAllAsync()).Members.Select(m => m.Item1).ToList();
        Assert.Equal(2, members.Count);
        Assert.All(members, m => Assert.Equal(SiloStatus.Active, m.Status));
        Assert.Equal(2, await Sql.CountAsync(database, $"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{clusterId}' AND status = {Active}"));

        var gatewayPorts = members.Select(m => m.ProxyPort).Order().ToArray();
        using var client = OrleansOnPostgres.Client(database, clusterId);
        await client.StartAsync().Within("the client to connect through the ADO.NET gateway list", Deadline);
        var gateways = await client.Service<IGatewayListProvider>().GetGatewaysAsync();
        Assert.Equal(gatewayPorts, gateways.Select(g => g.Port).Order());
        Assert.All(gateways, g => Assert.Equal("127.0.0.1", g.Host));
        await client.Service<IClusterClient>().GetGrain<INoteGrain>("via-client").Write("hello");

        var secondAddress = second.Service<ILocalSiloDetails>().SiloAddress;
        await second.StopAsync().Within("the second silo to stop", Deadline);
        Assert.Equal(Dead, await StatusOf(database, clusterId, secondAddress));
        Assert.Equal([first.Service<ILocalSiloDetails>().GatewayAddress.Endpoint.Port], (await client.Service<IGatewayListProvider>().GetGatewaysAsync()).Select(g => g.Port));

        await first.Service<IMembershipTable>().CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddSeconds(1));

        Assert.Null(await StatusOf(database, clusterId, secondAddress));
        Assert.Equal(Active, await StatusOf(database, clusterId, first.Service<ILocalSiloDetails>().SiloAddress));
        await client.StopAsync();
        await first.StopAsync().Within("the first silo to stop", Deadline);
    }

    [Fact]
    public async Task Grain_state_is_stored_in_Orleans_binary_format_and_survives_deactivation()
    {
        var database = await Migrated();
        using var silo = OrleansOnPostgres.Silo(database, $"c-{Guid.NewGuid():N}", "solo");
        await silo.StartAsync().Within("the silo to start", Deadline);
        var grains = silo.Service<IGrainFactory>();

        await grains.GetGrain<INoteGrain>("n1").Write("first");
        await grains.GetGrain<INoteGrain>("n1").Write("second");
        await grains.GetGrain<INoteGrain>("n1").Deactivate();
        await WaitUntil(async () => await Sql.CountAsync(database, "SELECT count(*) FROM orleans_grain_state") == 1, "the state row");

        var read = await grains.GetGrain<INoteGrain>("n1").Read();
        Assert.Equal("second", read.Text);
        Assert.Equal(2, read.Writes);
        var payload = await PayloadAsync(database);
        var stored = silo.Service<Serializer>().Deserialize<NoteState>(payload)!;
        Assert.Equal("second", stored.Text);
        Assert.NotEqual((byte)'{', payload[0]);

        await grains.GetGrain<INoteGrain>("n1").Clear();
        await grains.GetGrain<INoteGrain>("n1").Deactivate();
        Assert.Null((await grains.GetGrain<INoteGrain>("n1").Read()).Text);
        await grains.GetGrain<INoteGrain>("n1").Write("after clear");
        Assert.Equal("after clear", (await grains.GetGrain<INoteGrain>("n1").Read()).Text);
        await silo.StopAsync().Within("the silo to stop", Deadline);
    }

    [Fact]
    public async Task A_write_or_clear_with_a_stale_ETag_is_refused_and_versions_only_grow()
    {
        var database = await Migrated();
        using var silo = OrleansOnPostgres.Silo(database, $"c-{Guid.NewGuid():N}", "solo");
        await silo.StartAsync().Within("the silo to start", Deadline);
        var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(OrleansOnPostgres.StorageName);
        var id = GrainId.Create("note", "etag");
        const string type = "Gatehouse.Tests.Postgres.NoteGrain";

        var first = new GrainState<NoteState>(new NoteState());
        await storage.ReadStateAsync(type, id, first);
        Assert.False(first.RecordExists);
        Assert.Null(first.ETag);
        first.State!.Text = "one";
        await storage.WriteStateAsync(type, id, first);
        var second = new GrainState<NoteState>(new NoteState());
        await storage.ReadStateAsync(type, id, second);
        Assert.Equal(("one", first.ETag), (second.State!.Text, second.ETag));

        first.State!.Text = "two";
        await storage.WriteStateAsync(type, id, first);
        second.State!.Text = "stale";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(type, id, second));
        var blind = new GrainState<NoteState>(new NoteState { Text = "never read" });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(type, id, blind));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(type, id, second));

        var beforeClear = int.Parse(first.ETag!);
        await storage.ClearStateAsync(type, id, first);
        Assert.True(int.Parse(first.ETag!) > beforeClear);
        var afterClear = new GrainState<NoteState>(new NoteState());
        await storage.ReadStateAsync(type, id, afterClear);
        Assert.False(afterClear.RecordExists);
        Assert.Null(afterClear.State!.Text);
        Assert.Equal(first.ETag, afterClear.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(type, id, second));

        afterClear.State!.Text = "three";
        await storage.WriteStateAsync(type, id, afterClear);
        var last = new GrainState<NoteState>(new NoteState());
        await storage.ReadStateAsync(type, id, last);
        Assert.Equal("three", last.State!.Text);
        Assert.True(int.Parse(last.ETag!) > int.Parse(first.ETag!));
        await silo.StopAsync().Within("the silo to stop", Deadline);
    }

    [Fact]
    public async Task A_reminder_registers_fires_and_unregisters_and_a_long_period_round_trips()
    {
        var database = await Migrated();
        using var silo = OrleansOnPostgres.Silo(database, $"c-{Guid.NewGuid():N}", "solo");
        await silo.StartAsync().Within("the silo to start", Deadline);
        var key = Guid.NewGuid().ToString("N");
        var probe = silo.Service<IGrainFactory>().GetGrain<IReminderProbeGrain>(key);

        await probe.Start("tick", TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));
        Assert.Equal("1000", Assert.Single(await Sql.ListAsync(database, "SELECT period FROM orleans_reminders WHERE reminder_name = 'tick'")));
        await WaitUntil(() => Task.FromResult(ReminderProbeGrain.Ticks.GetValueOrDefault($"{key}/tick") >= 2), "two reminder ticks");

        // Over int.MaxValue milliseconds: the provider sends the period as bigint.
        var month = TimeSpan.FromDays(40);
        await probe.Start("monthly", month, month);
        var reminders = silo.Service<IReminderTable>();
        Assert.Equal(month, (await reminders.ReadRow(probe.GetGrainId(), "monthly"))!.Period);
        Assert.Equal(((long)month.TotalMilliseconds).ToString(), Assert.Single(await Sql.ListAsync(database, "SELECT period FROM orleans_reminders WHERE reminder_name = 'monthly'")));

        await probe.Stop("tick");
        await probe.Stop("monthly");
        Assert.Equal(0, await Sql.CountAsync(database, "SELECT count(*) FROM orleans_reminders"));
        Assert.Empty((await reminders.ReadRows(probe.GetGrainId())).Reminders);
        await silo.StopAsync().Within("the silo to stop", Deadline);
    }

    private async Task<string> Migrated()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        return database;
    }

    private static async Task<int?> StatusOf(string database, string clusterId, SiloAddress silo)
    {
        var rows = await Sql.ListAsync(database,
            $"SELECT status FROM orleans_membership WHERE deployment_id = '{clusterId}' AND address = '{silo.Endpoint.Address}' AND port = {silo.Endpoint.Port} AND generation = {silo.Generation}");
        return rows.Count == 0 ? null : int.Parse(rows.Single());
    }

    private static async Task<byte[]> PayloadAsync(string database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT payload FROM orleans_grain_state", connection);
        return (byte[])(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {Deadline} waiting for {what}.");
            }

            await Task.Delay(100);
        }
    }
}
