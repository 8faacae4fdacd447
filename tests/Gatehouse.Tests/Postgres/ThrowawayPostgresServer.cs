using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Tests.Postgres;

/// <summary>
/// A PostgreSQL server of the machine's own installation, on a temporary data directory and a free 127.0.0.1
/// port, for one test run. <c>initdb</c> and <c>pg_ctl</c> refuse root, so under root they run as <c>postgres</c>.
/// </summary>
/// <remarks>
/// The superuser <c>postgres</c> is trusted on 127.0.0.1; every other role must give its password
/// (scram-sha-256), so tests can see a wrong password refused. Durability is off: the data dies with the run.
/// </remarks>
internal sealed class ThrowawayPostgresServer : IAsyncDisposable
{
    private const string InstallRoot = "/usr/lib/postgresql";
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);

    private readonly string _root;
    private readonly string _bin;
    private readonly bool _asPostgresUser;
    private int _stopped;

    private ThrowawayPostgresServer(string root, string bin, bool asPostgresUser, int port)
    {
        _root = root;
        _bin = bin;
        _asPostgresUser = asPostgresUser;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The superuser connection string (database <c>postgres</c>).</summary>
    public string AdminConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false;Timeout=15";

    private string DataDirectory => Path.Combine(_root, "data");

    private string LogFile => Path.Combine(_root, "server.log");

    public string ServerLog => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";

    public static async Task<ThrowawayPostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        var asPostgresUser = Environment.UserName == "root";
        var root = Directory.CreateTempSubdirectory("gatehouse-pg-").FullName;
        ThrowawayPostgresServer? server = null;
        try
        {
            if (asPostgresUser)
            {
                await RunAsync("chown", ["postgres:postgres", root]);
            }

            server = new ThrowawayPostgresServer(root, bin, asPostgresUser, FreePort());
            await server.RunToolAsync("initdb", ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
            await File.WriteAllTextAsync(Path.Combine(server.DataDirectory, "pg_hba.conf"), """
                local all postgres trust
                host  all postgres 127.0.0.1/32 trust
                host  all all      127.0.0.1/32 scram-sha-256

                """);
            var options = $"-p {server.Port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
            await server.RunToolAsync("pg_ctl", ["-D", server.DataDirectory, "-l", server.LogFile, "-w", "-t", "30", "-o", options, "start"]);
            return server;
        }
        catch (Exception ex)
        {
            var log = server?.ServerLog ?? "(no server log)";
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            else
            {
                Directory.Delete(root, recursive: true);
            }

            throw new InvalidOperationException($"The test PostgreSQL server did not start: {ex.Message}\nServer log:\n{log}", ex);
        }
    }

    /// <summary>Stops the server at once (no checkpoint: the data is thrown away) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
            }
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>Synchronous stop for process exit, when the fixture's disposal never ran.</summary>
    public void StopAtExit() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static string FindBinaries()
    {
        var installed = Directory.Exists(InstallRoot)
            ? Directory.GetDirectories(InstallRoot)
                .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : -1))
                .Where(d => d.version >= 0 && File.Exists(Path.Combine(d.dir, "bin", "initdb")))
                .OrderByDescending(d => d.version)
                .Select(d => Path.Combine(d.dir, "bin"))
                .FirstOrDefault()
            : null;
        return installed ?? throw new InvalidOperationException(
            $"PostgreSQL is not installed (no {InstallRoot}/<version>/bin/initdb): run `apt-get install -y postgresql`, " +
            $"or set {TestPostgres.ServerVariable} to a connection string of a server where the tests may create databases.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task RunToolAsync(string tool, string[] arguments)
    {
        var path = Path.Combine(_bin, tool);
        return _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments]) : RunAsync(path, arguments);
    }

    private static async Task RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(CommandLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} did not finish within {CommandLimit.TotalSeconds:0} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }
}
