using Gatehouse.Chat;
using Gatehouse.Ledger;
using Gatehouse.Silo.Storage;
using Gatehouse.Tests.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gatehouse.Tests.Ledger;

/// <summary>The ledger's PostgreSQL sink and query against a real server, schema applied by <see cref="DatabaseSchema"/>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlUsageLedgerTests(TestPostgres postgres)
{
    private static readonly UsageRecord[] Mixed = MakeMixed();

    private static UsageRecord[] MakeMixed()
    {
        var t = UsageRecords.Day1;
        return
        [
            UsageRecords.Upstream(app: "a", alias: "gpt", provider: "openai", prompt: 11, completion: 7, cost: 0.0000975m, at: t),
            UsageRecords.Upstream(app: "a", alias: "gpt", provider: "openai", prompt: 11, completion: 7, cost: 0.0000975m, at: t.AddMinutes(1), cache: CacheStatus.Bypass),
            UsageRecords.Upstream(app: "a", alias: "gpt", provider: "openai", prompt: 0, completion: 0, cost: 0m, at: t.AddMinutes(2), status: "UpstreamFailed", attempt: 2),
            UsageRecords.Hit(app: "a", alias: "gpt", provider: "openai", saved: 0.0000975m, at: t.AddMinutes(3)),
            UsageRecords.Upstream(app: "b", alias: "claude", provider: "anthropic", prompt: 100, completion: 50, cost: 0.00105m, at: t.AddDays(1)),
            UsageRecords.Hit(app: "b", alias: "claude", provider: "anthropic", saved: 0.00105m, at: t.AddDays(1).AddHours(13)) with { Cache = CacheStatus.Shared },
            UsageRecords.Upstream(app: "b", alias: "gpt", provider: "openai", prompt: 3, completion: 4, cost: 0.0000475m, at: t.AddDays(1)),
        ];
    }

    private async Task<(string Database, NpgsqlDataSource DataSource)> DatabaseAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        return (database, NpgsqlDataSource.Create(database));
    }

    [Fact]
    public async Task Sink_OneBatch_RowsEqualTheRecordsSent()
    {
        var (_, dataSource) = await DatabaseAsync();
        await using var _ = dataSource;

        await new PostgreSqlUsageSink(dataSource).WriteAsync(Mixed, CancellationToken.None);

        var read = new List<UsageRecord>();
        await using var command = dataSource.CreateCommand(
            "SELECT at, app_id, alias, provider, model, prompt_tokens, completion_tokens, cached_prompt_tokens, cost_usd, saved_usd, priced, latency_ms, cache, attempts, status FROM gatehouse_usage ORDER BY at");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            read.Add(new UsageRecord(
                reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetDecimal(8), reader.GetDecimal(9), reader.GetBoolean(10),
                reader.GetInt32(11), reader.GetString(12), reader.GetInt32(13), reader.GetString(14)));
        }

        Assert.Equal(Mixed.OrderBy(r => r.Time), read);
    }

    [Theory]
    [InlineData(UsageGrouping.None)]
    [InlineData(UsageGrouping.App)]
    [InlineData(UsageGrouping.Alias)]
    [InlineData(UsageGrouping.Provider)]
    [InlineData(UsageGrouping.Day)]
    [InlineData(UsageGrouping.Day | UsageGrouping.App | UsageGrouping.Alias | UsageGrouping.Provider)]
    public async Task Query_GroupedFiguresEqualTheMemoryQueryOfTheSameRecords(UsageGrouping groupBy)
    {
        var (_, dataSource) = await DatabaseAsync();
        await using var _ = dataSource;
        await new PostgreSqlUsageSink(dataSource).WriteAsync(Mixed, CancellationToken.None);
        var filter = new UsageFilter { GroupBy = groupBy };

        var rows = await new PostgreSqlUsageQuery(dataSource).QueryAsync(filter, CancellationToken.None);

        Assert.Equal(MemoryUsageQuery.Aggregate(Mixed, filter), rows);
    }

    [Fact]
    public async Task Query_ByApp_ExactFigures()
    {
        var (_, dataSource) = await DatabaseAsync();
        await using var _ = dataSource;
        await new PostgreSqlUsageSink(dataSource).WriteAsync(Mixed, CancellationToken.None);

        var rows = await new PostgreSqlUsageQuery(dataSource).QueryAsync(new UsageFilter { GroupBy = UsageGrouping.App }, CancellationToken.None);

        Assert.Equal(
            [
                new UsageRow("a", null, null, null, Requests: 3, UpstreamCalls: 3, CacheHits: 1, PromptTokens: 22, CompletionTokens: 14, CostUsd: 0.000195m, SavedUsd: 0.0000975m),
                new UsageRow("b", null, null, null, Requests: 3, UpstreamCalls: 2, CacheHits: 1, PromptTokens: 103, CompletionTokens: 54, CostUsd: 0.0010975m, SavedUsd: 0.00105m),
            ],
            rows);
    }

    [Fact]
    public async Task Query_FiltersByAppAliasAndHalfOpenRange()
    {
        var (_, dataSource) = await DatabaseAsync();
        await using var _ = dataSource;
        await new PostgreSqlUsageSink(dataSource).WriteAsync(Mixed, CancellationToken.None);
        var filter = new UsageFilter { App = "a", Alias = "gpt", From = UsageRecords.Day1.AddMinutes(1), To = UsageRecords.Day1.AddMinutes(3) };

        // The bypass call and its failed retry (attempt 2): one request, two upstream calls.
        var row = Assert.Single(await new PostgreSqlUsageQuery(dataSource).QueryAsync(filter, CancellationToken.None));

        Assert.Equal(new UsageRow(null, null, null, null, 1, 2, 0, 11, 7, 0.0000975m, 0m), row);
    }

    [Fact]
    public async Task Ledger_ManyRecordsThroughTheQueue_AllRowsWrittenAndStopFlushes()
    {
        var (database, dataSource) = await DatabaseAsync();
        await using var _ = dataSource;
        var ledger = new UsageLedger(new PostgreSqlUsageSink(dataSource), UsageLedgerSettings.Default, TimeProvider.System, NullLogger<UsageLedger>.Instance);
        await ledger.StartAsync(CancellationToken.None);

        for (var i = 0; i < 1234; i++)
        {
            await ledger.RecordAsync(UsageRecords.Upstream(prompt: i, completion: 1, cost: 0.000001m));
        }

        await ledger.StopAsync(CancellationToken.None);
        await ledger.DisposeAsync();

        Assert.Equal(0, ledger.Dropped);
        Assert.Equal(1234, ledger.Written);
        Assert.Equal(1234, await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage"));
        Assert.Equal(1234 * 1233 / 2, await Sql.CountAsync(database, "SELECT sum(prompt_tokens) FROM gatehouse_usage"));
    }
}
