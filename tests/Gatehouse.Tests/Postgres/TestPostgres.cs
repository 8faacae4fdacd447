using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>
/// The PostgreSQL server of a test run, shared by the <see cref="PostgresCollection"/>: each test asks it for a
/// fresh, empty database of its own.
/// </summary>
/// <remarks>
/// With <see cref="ServerVariable"/> set (CI), that server is used and the databases made on it are dropped at the
/// end. Otherwise a <see cref="ThrowawayPostgresServer"/> is started on first use and stopped, directory and all,
/// when the collection ends (or, failing that, when the process exits).
/// </remarks>
public sealed class TestPostgres : IAsyncLifetime
{
    /// <summary>A connection string to a server where the tests may CREATE DATABASE.</summary>
    public const string ServerVariable = "GATEHOUSE_TEST_POSTGRES";

    private readonly List<string> _databases = [];
    private ThrowawayPostgresServer? _server;
    private string _adminConnectionString = "";

    /// <summary>True when the tests run against the throwaway server (with password authentication for other roles).</summary>
    public bool IsThrowaway => _server is not null;

    /// <summary>The server log of the throwaway server, for failure messages; empty for a server from <see cref="ServerVariable"/>.</summary>
    public string ServerLog => _server?.ServerLog ?? "";

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ServerVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            _adminConnectionString = external;
            return;
        }

        _server = await ThrowawayPostgresServer.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += StopAtExit;
        _adminConnectionString = _server.AdminConnectionString;
    }

    /// <summary>Creates an empty database and returns a connection string to it (the server's admin role).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"gatehouse_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(_adminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'", connection);
            await command.ExecuteNonQueryAsync();
        }

        lock (_databases)
        {
            _databases.Add(name);
        }

        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            AppDomain.CurrentDomain.ProcessExit -= StopAtExit;
            await _server.DisposeAsync();
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        foreach (var name in _databases)
        {
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private void StopAtExit(object? sender, EventArgs e) => _server?.StopAtExit();
}
