using Npgsql;

namespace Gatehouse.Silo.Storage;

/// <summary>
/// Applies Gatehouse's PostgreSQL schema (the Orleans ADO.NET tables and their <c>OrleansQuery</c> rows): every
/// embedded script the database does not have yet, in name order, in one transaction.
/// </summary>
/// <remarks>
/// <para>Each applied script is recorded in <c>gatehouse_schema_migrations</c> with the SHA-256 of its text. A
/// script that is recorded with the same hash is skipped. A re-runnable script (see
/// <see cref="SchemaScript.ReRunnable"/>) whose text changed — the Orleans query rows after an upgrade — is applied
/// again and its record updated. A run-once script whose text changed is refused: its change belongs in a new
/// script, or databases that already ran it would never get it.</para>
/// <para>Runs hold a transaction-scoped advisory lock, so concurrent runs (several silos or deploy jobs starting
/// at once) queue: the first applies, the others then find everything done. A failing script rolls the whole run
/// back, leaving the database as it was.</para>
/// </remarks>
public static class DatabaseSchema
{
    /// <summary>The advisory lock every schema run holds: "gatehous" in ASCII, to stay clear of other users' keys.</summary>
    internal const long LockKey = 0x6761_7465_686F_7573;

    /// <summary>The table that records which scripts a database has.</summary>
    internal const string MigrationsTable = "gatehouse_schema_migrations";

    /// <summary>Applies the embedded scripts to the database <paramref name="connectionString"/> names.</summary>
    public static Task<SchemaResult> ApplyAsync(string connectionString, CancellationToken cancellationToken = default) =>
        ApplyAsync(connectionString, SchemaScript.Embedded, cancellationToken);

    internal static async Task<SchemaResult> ApplyAsync(
        string connectionString, IReadOnlyList<SchemaScript> scripts, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction, $"""
            CREATE TABLE IF NOT EXISTS {MigrationsTable}
            (
                script     text        PRIMARY KEY,
                sha256     text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);

        var recorded = await ReadRecordedAsync(connection, transaction, cancellationToken);
        var applied = new List<AppliedScript>();
        var present = new List<string>();
        foreach (var script in scripts.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var known = recorded.TryGetValue(script.Name, out var recordedHash);
            if (known && recordedHash == script.Sha256)
            {
                present.Add(script.Name);
                continue;
            }

            if (known && !script.ReRunnable)
            {
                throw new SchemaException(
                    $"script {script.Name} changed after it was applied to this database; put the change in a new script.");
            }

            try
            {
                await ExecuteAsync(connection, transaction, script.Text, cancellationToken);
            }
            catch (PostgresException ex)
            {
                throw new SchemaException($"script {script.Name} failed: {ex.MessageText} (SQLSTATE {ex.SqlState}).");
            }

            await RecordAsync(connection, transaction, script, cancellationToken);
            applied.Add(new AppliedScript(script.Name, Reapplied: known));
        }

        await transaction.CommitAsync(cancellationToken);
        return new SchemaResult(applied, present);
    }

    private static async Task<Dictionary<string, string>> ReadRecordedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT script, sha256 FROM {MigrationsTable}", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded[reader.GetString(0)] = reader.GetString(1);
        }

        return recorded;
    }

    private static async Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SchemaScript script, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            INSERT INTO {MigrationsTable} (script, sha256, applied_at) VALUES (@script, @sha256, now())
            ON CONFLICT (script) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = EXCLUDED.applied_at
            """, connection, transaction);
        command.Parameters.AddWithValue("script", script.Name);
        command.Parameters.AddWithValue("sha256", script.Sha256);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
