using Gatehouse.Configuration;
using Gatehouse.Responses;
using Gatehouse.Silo.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>The hourly sweep deletes exactly the stored responses past their retention, of this service only.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ExpiredResponseSweeperTests(TestPostgres postgres)
{
    [Fact]
    public async Task Sweep_DeletesStoredResponsesPastRetention_AndNothingElse()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        var now = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        await InsertAsync(database, 1, "stored_response", "gatehouse", now.AddDays(-31));
        await InsertAsync(database, 2, "stored_response", "gatehouse", now.AddDays(-29));
        await InsertAsync(database, 3, "budget", "gatehouse", now.AddDays(-90));
        await InsertAsync(database, 4, "stored_response", "another-service", now.AddDays(-90));
        await using var dataSource = NpgsqlDataSource.Create(database);
        var options = Options.Create(new GatehouseOptions { Responses = new ResponsesOptions { RetentionDays = 30 } });
        var sweeper = new ExpiredResponseSweeper(dataSource, options, new FakeTimeProvider(now), NullLogger<ExpiredResponseSweeper>.Instance);

        Assert.Equal(1, await sweeper.SweepAsync(CancellationToken.None));

        Assert.Equal(["2", "3", "4"], await Sql.ListAsync(database, "SELECT grain_id_n0 FROM orleans_grain_state ORDER BY grain_id_n0"));
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
    }

    private static async Task InsertAsync(string database, long id, string grainType, string serviceId, DateTimeOffset modifiedAt)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO orleans_grain_state (grain_id_hash, grain_type_hash, service_id, grain_type, grain_id_n0, grain_id_n1, version, payload, modified_at)
            VALUES (1, 1, $1, $2, $3, 0, 1, '\x00', $4)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainType });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = modifiedAt.UtcDateTime });
        await command.ExecuteNonQueryAsync();
    }
}
