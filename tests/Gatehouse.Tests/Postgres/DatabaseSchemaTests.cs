using Gatehouse.Silo.Storage;
using Npgsql;

namespace Gatehouse.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class DatabaseSchemaTests(TestPostgres postgres)
{
    private static readonly string[] EmbeddedNames = [.. SchemaScript.Embedded.Select(s => s.Name)];

    [Fact]
    public void The_embedded_scripts_are_the_three_Orleans_providers_then_the_usage_ledger_in_order()
    {
        Assert.Equal(["0001-orleans-clustering.sql", "0002-orleans-persistence.sql", "0003-orleans-reminders.sql", "0004-gatehouse-usage-ledger.sql", "0005-gatehouse-response-retention.sql"], EmbeddedNames);
        Assert.All(SchemaScript.Embedded.Take(3), s => Assert.True(s.ReRunnable, $"{s.Name} should be re-runnable"));
        Assert.False(SchemaScript.Embedded[3].ReRunnable, "the ledger's table is created once; a change to it belongs in a new script");
    }

    [Fact]
    public async Task An_empty_database_gets_every_script_and_the_Orleans_tables()
    {
        var database = await postgres.CreateDatabaseAsync();

        var result = await DatabaseSchema.ApplyAsync(database);

        Assert.Equal(EmbeddedNames, result.Applied.Select(a => a.Name));
        Assert.All(result.Applied, a => Assert.False(a.Reapplied));
        Assert.Empty(result.AlreadyPresent);
        var tables = await Sql.ListAsync(database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
        Assert.Equal(
            ["gatehouse_schema_migrations", "gatehouse_usage", "orleans_grain_state", "orleans_membership", "orleans_membership_version", "orleans_reminders", "orleansquery"],
            tables);
        Assert.Equal(EmbeddedNames, await Sql.ListAsync(database, "SELECT script FROM gatehouse_schema_migrations ORDER BY script"));
    }

    [Fact]
    public async Task Applying_again_applies_nothing_and_changes_nothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        var before = await SnapshotAsync(database);

        var again = await DatabaseSchema.ApplyAsync(database);

        Assert.Empty(again.Applied);
        Assert.Equal(EmbeddedNames, again.AlreadyPresent);
        Assert.Equal(before, await SnapshotAsync(database));
    }

    [Fact]
    public async Task Two_concurrent_runs_both_succeed_and_apply_each_script_once()
    {
        var database = await postgres.CreateDatabaseAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => DatabaseSchema.ApplyAsync(database))));

        Assert.Equal(EmbeddedNames.Order(StringComparer.Ordinal), results.SelectMany(r => r.Applied.Select(a => a.Name)).Order(StringComparer.Ordinal));
        Assert.Contains(results, r => r.Applied.Count == EmbeddedNames.Length);
        Assert.Contains(results, r => r.AlreadyPresent.Count == EmbeddedNames.Length);
    }

    [Fact]
    public async Task A_changed_query_in_a_re_runnable_script_reaches_a_database_that_had_the_old_one()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        // What an Orleans upgrade does to a script: one query's text changes.
        var upgraded = SchemaScript.Embedded
            .Select(s => s.Name == "0003-orleans-reminders.sql"
                ? SchemaScript.From(s.Name, s.Text.Replace("DELETE FROM orleans_reminders WHERE service_id = @ServiceId", "DELETE FROM orleans_reminders WHERE service_id = @ServiceId AND true", StringComparison.Ordinal))
                : s)
            .ToList();
        Assert.NotEqual(SchemaScript.Embedded[2].Sha256, upgraded[2].Sha256);

        var result = await DatabaseSchema.ApplyAsync(database, upgraded, CancellationToken.None);

        Assert.Equal([new AppliedScript("0003-orleans-reminders.sql", Reapplied: true)], result.Applied);
        var text = await Sql.ListAsync(database, "SELECT querytext FROM orleansquery WHERE querykey = 'DeleteReminderRowsKey'");
        Assert.Contains("AND true", Assert.Single(text));
        Assert.Equal(upgraded[2].Sha256, Assert.Single(await Sql.ListAsync(database, "SELECT sha256 FROM gatehouse_schema_migrations WHERE script = '0003-orleans-reminders.sql'")));
    }

    [Fact]
    public async Task A_run_once_script_that_changed_after_it_was_applied_is_refused()
    {
        var database = await postgres.CreateDatabaseAsync();
        var once = SchemaScript.From("0004-test-once.sql", "CREATE TABLE test_once (x integer);");
        await DatabaseSchema.ApplyAsync(database, [.. SchemaScript.Embedded, once], CancellationToken.None);
        var changed = SchemaScript.From("0004-test-once.sql", "CREATE TABLE test_once (x integer, y integer);");

        var error = await Assert.ThrowsAsync<SchemaException>(
            () => DatabaseSchema.ApplyAsync(database, [.. SchemaScript.Embedded, changed], CancellationToken.None));

        Assert.Contains("0004-test-once.sql changed after it was applied", error.Message);
    }

    [Fact]
    public async Task A_failing_script_leaves_the_database_as_it_was()
    {
        var database = await postgres.CreateDatabaseAsync();
        var broken = SchemaScript.From("0004-test-broken.sql", "SELECT * FROM no_such_table;");

        var error = await Assert.ThrowsAsync<SchemaException>(
            () => DatabaseSchema.ApplyAsync(database, [.. SchemaScript.Embedded, broken], CancellationToken.None));

        Assert.Contains("0004-test-broken.sql failed", error.Message);
        Assert.Contains("no_such_table", error.Message);
        Assert.Empty(await Sql.ListAsync(database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"));
    }

    /// <summary>Everything the schema step writes: the script records and the query rows.</summary>
    private static async Task<string[]> SnapshotAsync(string database) =>
    [
        .. await Sql.ListAsync(database, "SELECT script || ' ' || sha256 || ' ' || applied_at::text FROM gatehouse_schema_migrations ORDER BY script"),
        .. await Sql.ListAsync(database, "SELECT querykey || ' ' || md5(querytext) FROM orleansquery ORDER BY querykey"),
    ];
}
