using System.Data;
using System.Reflection;
using System.Reflection.Emit;
using System.Text.RegularExpressions;
using Gatehouse.Silo.Storage;
using Npgsql;
using Orleans.Runtime.MembershipService;
using Orleans.Storage;

namespace Gatehouse.Tests.Postgres;

/// <summary>The OrleansQuery rows against what the 10.4.2 provider assemblies ask for.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class OrleansQueryKeysTests(TestPostgres postgres)
{
    /// <summary>The keys each provider's <c>DbStoredQueries</c> constructor insists on: one per internal instance property.</summary>
    private static string[] RequiredBy(Assembly provider, string storageNamespace) =>
    [
        .. provider.GetType($"{storageNamespace}.DbStoredQueries", throwOnError: true)!
            .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic)
            .Select(p => p.Name),
    ];

    private static readonly string[] ClusteringRequired = RequiredBy(typeof(AdoNetClusteringTable).Assembly, "Orleans.Clustering.AdoNet.Storage");

    private static readonly string[] RemindersRequired = RequiredBy(typeof(Orleans.Configuration.AdoNetReminderTableOptions).Assembly, "Orleans.Reminders.AdoNet.Storage");

    /// <summary>Grain storage reads its rows with its own query, which names every key it uses.</summary>
    private static readonly string[] PersistenceKeys =
        [.. QuotedKey().Matches(AdoNetGrainStorage.DefaultInitializationQuery).Select(m => m.Groups[1].Value)];

    /// <summary>The optional clean-up query clustering looks up by name (a string constant in its IL).</summary>
    private static readonly string[] ClusteringOptional = StringsLoadedBy(
        typeof(AdoNetClusteringTable).Assembly.GetType("Orleans.Clustering.AdoNet.Storage.DbStoredQueries", throwOnError: true)!
            .GetMethod("GetCleanupDefunctSiloEntryQuery", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("10.4.2 clustering has no GetCleanupDefunctSiloEntryQuery: check the optional keys again."));

    [Fact]
    public void The_provider_assemblies_ask_for_the_keys_this_schema_was_written_for()
    {
        Assert.Equal(
            ["CleanupDefunctSiloEntriesKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey", "InsertMembershipKey", "InsertMembershipVersionKey",
             "MembershipReadAllKey", "MembershipReadRowKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey"],
            ClusteringRequired.Order(StringComparer.Ordinal));
        Assert.Equal(["CleanupDefunctSiloEntryKey"], ClusteringOptional);
        Assert.Equal(
            ["DeleteReminderRowKey", "DeleteReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "ReadReminderRowKey", "ReadReminderRowsKey", "UpsertReminderRowKey"],
            RemindersRequired.Order(StringComparer.Ordinal));
        Assert.Equal(["ClearStorageKey", "DeleteStorageKey", "ReadFromStorageKey", "WriteToStorageKey"], PersistenceKeys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_schema_has_a_row_for_every_key_the_providers_use_and_no_other()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);

        var rows = await Sql.ListAsync(database, "SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey");

        Assert.Equal(
            ClusteringRequired.Concat(ClusteringOptional).Concat(RemindersRequired).Concat(PersistenceKeys).Order(StringComparer.Ordinal),
            rows.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Every stored query runs (and is rolled back) with parameters of the names and DbTypes the providers send:
    /// a typo, a wrong column or a type the provider does not send fails here, also for queries the cluster tests
    /// do not reach.
    /// </summary>
    [Fact]
    public async Task Every_query_runs_with_the_parameters_the_providers_send()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        var queries = new Dictionary<string, string>();
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT QueryKey, QueryText FROM OrleansQuery", connection);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                queries[reader.GetString(0)] = reader.GetString(1);
            }
        }

        foreach (var (key, text) in queries)
        {
            // Period goes as int when it fits and as bigint when not; a version may be NULL (no state read yet).
            foreach (var variant in new[] { ParameterVariant.Small, ParameterVariant.Large })
            {
                await using var connection = new NpgsqlConnection(database);
                await connection.OpenAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                await using var command = new NpgsqlCommand(text, connection, transaction);
                foreach (var name in ParameterName().Matches(text).Select(m => m.Groups[1].Value).Distinct())
                {
                    command.Parameters.Add(ProviderParameter(name, variant));
                }

                try
                {
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                    }
                }
                catch (PostgresException ex)
                {
                    Assert.Fail($"{key} ({variant}) failed: {ex.MessageText}");
                }

                await transaction.RollbackAsync();
            }
        }
    }

    private enum ParameterVariant
    {
        Small,
        Large,
    }

    /// <summary>A parameter as the 10.4.2 providers add it (their DbExtensions map .NET types to DbTypes).</summary>
    private static NpgsqlParameter ProviderParameter(string name, ParameterVariant variant)
    {
        var now = DateTime.UtcNow;
        (object? value, DbType type) = name switch
        {
            "DeploymentId" or "ServiceId" or "SiloName" or "HostName" or "ReminderName" or "GrainTypeString" => ((object?)"x", DbType.String),
            "Address" => ("127.0.0.1", DbType.AnsiString),
            "GrainId" => ("test/x", DbType.AnsiString),
            "SuspectTimes" or "GrainIdExtensionString" => (variant == ParameterVariant.Small ? null : "x", DbType.String),
            "Port" or "Generation" or "Status" or "ProxyPort" or "Version" or "GrainHash" or "BeginHash" or "EndHash"
                or "GrainIdHash" or "GrainTypeHash" => (1, DbType.Int32),
            "GrainStateVersion" => (variant == ParameterVariant.Small ? null : 1, DbType.Int32),
            "GrainIdN0" or "GrainIdN1" => (1L, DbType.Int64),
            "Period" => variant == ParameterVariant.Small ? (1000, DbType.Int32) : (40L * 24 * 3600 * 1000, DbType.Int64),
            "StartTime" or "IAmAliveTime" => (now, DbType.DateTime),
            "PayloadBinary" => (new byte[] { 1, 2, 3 }, DbType.Binary),
            _ => throw new InvalidOperationException($"A stored query uses @{name}, which no 10.4.2 provider sends."),
        };
        return new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value };
    }

    private static string[] StringsLoadedBy(MethodInfo method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        var strings = new List<string>();
        for (var i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] == OpCodes.Ldstr.Value)
            {
                try
                {
                    strings.Add(method.Module.ResolveString(BitConverter.ToInt32(il, i + 1)));
                    i += 4;
                }
                catch (ArgumentException)
                {
                }
            }
        }

        return [.. strings];
    }

    [GeneratedRegex("QueryKey = '(\\w+)'")]
    private static partial Regex QuotedKey();

    [GeneratedRegex("@(\\w+)")]
    private static partial Regex ParameterName();
}
