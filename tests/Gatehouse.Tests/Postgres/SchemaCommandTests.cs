using System.Diagnostics;
using Npgsql;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Postgres;

/// <summary><c>dotnet Gatehouse.Silo.dll migrate</c>, the step operators run, as a real process.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SchemaCommandTests(TestPostgres postgres)
{
    private const string Password = "Wr0ng-Secret-Pa55word";
    private static readonly TimeSpan ProcessLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Migrate_applies_the_schema_then_finds_it_up_to_date()
    {
        var database = await postgres.CreateDatabaseAsync();
        // The connection string by reference, the way a deployment passes secrets.
        var environment = new Dictionary<string, string>
        {
            ["Gatehouse__Storage__ConnectionString"] = "env:GATEHOUSE_TEST_MIGRATE_DB",
            ["GATEHOUSE_TEST_MIGRATE_DB"] = database,
        };

        var first = await RunMigrateAsync(environment);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("Applied 0001-orleans-clustering.sql", first.Output);
        Assert.Contains("Applied 0003-orleans-reminders.sql", first.Output);
        Assert.Contains("Applied 0004-gatehouse-usage-ledger.sql", first.Output);
        Assert.Contains("Applied 0005-gatehouse-response-retention.sql", first.Output);
        Assert.Contains("Schema up to date (5 scripts applied, 0 already present).", first.Output);
        Assert.Equal(5, await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_schema_migrations"));

        var second = await RunMigrateAsync(environment);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("Schema up to date (0 scripts applied, 5 already present).", second.Output);
    }

    [Fact]
    public async Task Migrate_falls_back_to_the_cluster_connection_string()
    {
        var database = await postgres.CreateDatabaseAsync();

        var run = await RunMigrateAsync(new() { ["Gatehouse__Cluster__ConnectionString"] = database });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("Schema up to date (5 scripts applied, 0 already present).", run.Output);
    }

    [Fact]
    public async Task Migrate_against_a_closed_port_fails_plainly_without_the_password()
    {
        var run = await RunMigrateAsync(new()
        {
            ["Gatehouse__Storage__ConnectionString"] = $"Host=127.0.0.1;Port={TestPorts.Closed()};Username=gatehouse;Password={Password};Timeout=5",
        });

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Gatehouse cannot apply the schema: Failed to connect to 127.0.0.1:", run.Error.Trim());
        Assert.DoesNotContain(Password, run.Output + run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public async Task Migrate_with_a_wrong_password_fails_plainly_without_the_password()
    {
        var database = await postgres.CreateDatabaseAsync();
        // A role that does not exist, with a password: refused whether the server checks passwords (the throwaway
        // one does, for every role but postgres) or trusts loopback.
        var wrong = new NpgsqlConnectionStringBuilder(database) { Username = "gatehouse_no_such_role", Password = Password }.ConnectionString;

        var run = await RunMigrateAsync(new() { ["Gatehouse__Storage__ConnectionString"] = wrong });

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Gatehouse cannot apply the schema: ", run.Error.Trim());
        Assert.Contains(postgres.IsThrowaway ? "password authentication failed" : "gatehouse_no_such_role", run.Error);
        Assert.DoesNotContain(Password, run.Output + run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public async Task Migrate_without_a_connection_string_says_which_setting_to_give()
    {
        var run = await RunMigrateAsync([]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Gatehouse:Storage:ConnectionString", run.Error);
    }

    private sealed record Run(int ExitCode, string Output, string Error);

    private static async Task<Run> RunMigrateAsync(Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gatehouse.Silo.dll"));
        start.ArgumentList.Add("migrate");
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("Gatehouse__", StringComparison.OrdinalIgnoreCase) || k == "GATEHOUSE_CONFIG").ToList())
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(ProcessLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"migrate did not finish within {ProcessLimit}: {await output}{await error}");
        }

        return new Run(process.ExitCode, await output, await error);
    }

}
