using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Ledger;

/// <summary>The usage query over <c>gatehouse_usage</c>: one SQL <c>GROUP BY</c> over every silo's records.</summary>
public sealed class PostgreSqlUsageQuery(NpgsqlDataSource dataSource) : IUsageQuery
{
    private const string Upstream = "cache IN ('miss', 'bypass')";

    public async Task<IReadOnlyList<UsageRow>> QueryAsync(UsageFilter filter, CancellationToken cancellationToken)
    {
        var by = filter.GroupBy;
        var keys = new List<(UsageGrouping Field, string Sql)>();
        // Ordered as the rows are: day first, then the names in byte order (as the memory query's ordinal order).
        if (by.HasFlag(UsageGrouping.Day))
        {
            keys.Add((UsageGrouping.Day, "(at AT TIME ZONE 'UTC')::date"));
        }

        if (by.HasFlag(UsageGrouping.App))
        {
            keys.Add((UsageGrouping.App, "app_id COLLATE \"C\""));
        }

        if (by.HasFlag(UsageGrouping.Alias))
        {
            keys.Add((UsageGrouping.Alias, "alias COLLATE \"C\""));
        }

        if (by.HasFlag(UsageGrouping.Provider))
        {
            keys.Add((UsageGrouping.Provider, "provider COLLATE \"C\""));
        }

        var sql = new StringBuilder("SELECT ");
        foreach (var (_, key) in keys)
        {
            sql.Append(key).Append(", ");
        }

        sql.Append($"""
            count(*) FILTER (WHERE NOT {Upstream} OR attempts <= 1), count(*) FILTER (WHERE {Upstream}), count(*) FILTER (WHERE NOT {Upstream}),
            coalesce(sum(prompt_tokens) FILTER (WHERE {Upstream}), 0), coalesce(sum(completion_tokens) FILTER (WHERE {Upstream}), 0),
            coalesce(sum(cost_usd), 0), coalesce(sum(saved_usd), 0)
            FROM {PostgreSqlUsageSink.Table} WHERE true
            """);
        await using var command = dataSource.CreateCommand();
        if (filter.App is not null)
        {
            sql.Append(" AND app_id = @app");
            command.Parameters.Add(new NpgsqlParameter("app", NpgsqlDbType.Text) { Value = filter.App });
        }

        if (filter.Alias is not null)
        {
            sql.Append(" AND alias = @alias");
            command.Parameters.Add(new NpgsqlParameter("alias", NpgsqlDbType.Text) { Value = filter.Alias });
        }

        if (filter.From is { } from)
        {
            sql.Append(" AND at >= @from");
            command.Parameters.Add(new NpgsqlParameter("from", NpgsqlDbType.TimestampTz) { Value = from.UtcDateTime });
        }

        if (filter.To is { } to)
        {
            sql.Append(" AND at < @to");
            command.Parameters.Add(new NpgsqlParameter("to", NpgsqlDbType.TimestampTz) { Value = to.UtcDateTime });
        }

        if (keys.Count > 0)
        {
            var positions = string.Join(", ", Enumerable.Range(1, keys.Count));
            sql.Append(" GROUP BY ").Append(positions).Append(" ORDER BY ").Append(positions);
        }

        command.CommandText = sql.ToString();
        var rows = new List<UsageRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            string? app = null, alias = null, provider = null;
            DateOnly? day = null;
            for (var i = 0; i < keys.Count; i++)
            {
                switch (keys[i].Field)
                {
                    case UsageGrouping.Day: day = reader.GetFieldValue<DateOnly>(i); break;
                    case UsageGrouping.App: app = reader.GetString(i); break;
                    case UsageGrouping.Alias: alias = reader.GetString(i); break;
                    default: provider = reader.GetString(i); break;
                }
            }

            var n = keys.Count;
            rows.Add(new UsageRow(
                app, alias, provider, day,
                reader.GetInt64(n), reader.GetInt64(n + 1), reader.GetInt64(n + 2), reader.GetInt64(n + 3), reader.GetInt64(n + 4),
                reader.GetDecimal(n + 5), reader.GetDecimal(n + 6)));
        }

        return rows;
    }
}
