using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Ledger;

/// <summary>Writes a batch to <c>gatehouse_usage</c> with one binary COPY: the batch is stored when the COPY commits, or not at all.</summary>
public sealed class PostgreSqlUsageSink(NpgsqlDataSource dataSource) : IUsageSink
{
    public const string Table = "gatehouse_usage";

    private const string Copy = $"""
        COPY {Table} (at, app_id, alias, provider, model, prompt_tokens, completion_tokens, cached_prompt_tokens,
                      cost_usd, saved_usd, priced, latency_ms, cache, attempts, status) FROM STDIN (FORMAT BINARY)
        """;

    public async Task WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var importer = await connection.BeginBinaryImportAsync(Copy, cancellationToken);
        foreach (var record in batch)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(record.Time.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(record.AppId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(record.Alias, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(record.Provider, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(record.Model, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(record.PromptTokens, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(record.CompletionTokens, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(record.CachedPromptTokens, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(record.CostUsd, NpgsqlDbType.Numeric, cancellationToken);
            await importer.WriteAsync(record.SavedUsd, NpgsqlDbType.Numeric, cancellationToken);
            await importer.WriteAsync(record.Priced, NpgsqlDbType.Boolean, cancellationToken);
            await importer.WriteAsync(record.LatencyMs, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(record.Cache, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(record.Attempts, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(record.Status, NpgsqlDbType.Text, cancellationToken);
        }

        await importer.CompleteAsync(cancellationToken);
    }
}
