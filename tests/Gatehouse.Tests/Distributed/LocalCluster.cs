using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Gatehouse.Tests.Distributed;

/// <summary>One silo of a <see cref="LocalCluster"/>, as <c>scripts/cluster.sh</c> reports it.</summary>
public sealed record ClusterSilo(int Index, string BaseUrl, int GatewayPort, int ProcessId);

/// <summary>
/// The deployment topology as real processes: <c>scripts/cluster.sh up N</c> (a throwaway PostgreSQL with the schema
/// applied and N silo processes sharing it), driven by the same commands a user runs. Torn down on dispose.
/// </summary>
public sealed partial class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    private readonly string _stateDirectory;
    private readonly string _configPath;
    private readonly Dictionary<int, ClusterSilo> _silos = [];

    private LocalCluster(string stateDirectory, string configPath)
    {
        _stateDirectory = stateDirectory;
        _configPath = configPath;
    }

    public IReadOnlyList<ClusterSilo> Silos => [.. _silos.Values.OrderBy(s => s.Index)];

    public ClusterSilo this[int index] => _silos[index];

    /// <summary>The Npgsql connection string of the cluster's PostgreSQL (the membership table grain clients read).</summary>
    public string PostgresConnectionString { get; private set; } = "";

    /// <param name="configJson">The file given as <c>--config</c>: its <c>Gatehouse</c> section (providers, models, apps, cache).</param>
    public static async Task<LocalCluster> UpAsync(int silos, string configJson)
    {
        var directory = Directory.CreateTempSubdirectory("gatehouse-cluster-test-").FullName;
        var configPath = Path.Combine(directory, "config.json");
        await File.WriteAllTextAsync(configPath, configJson);
        var cluster = new LocalCluster(Path.Combine(directory, "state"), configPath);
        try
        {
            cluster.Parse(await cluster.RunAsync("up", silos.ToString(), "--config", configPath));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        Assert.Equal(silos, cluster._silos.Count);
        return cluster;
    }

    /// <summary>SIGKILL: a crash, no shutdown.</summary>
    public async Task KillAsync(int index) => await RunAsync("kill", index.ToString());

    /// <summary>A graceful stop (SIGTERM), returning when the process has exited.</summary>
    public async Task StopAsync(int index) => await RunAsync("stop", index.ToString());

    /// <summary>Starts silo <paramref name="index"/> again on its ports, returning when it is ready.</summary>
    public async Task StartAsync(int index) => Parse(await RunAsync("start", index.ToString()));

    /// <summary>Each silo's state as <c>cluster.sh status</c> prints it: true for <c>up</c>.</summary>
    public async Task<IReadOnlyDictionary<int, bool>> StatusAsync()
    {
        var output = await RunAsync("status");
        return SiloLine().Matches(output).ToDictionary(m => int.Parse(m.Groups["index"].Value), m => m.Groups["state"].Value == "up");
    }

    /// <summary>What silo <paramref name="index"/> printed (its log), for failure messages.</summary>
    public string LogOf(int index)
    {
        var path = Path.Combine(_stateDirectory, $"silo-{index}.log");
        return File.Exists(path) ? File.ReadAllText(path) : $"(no log at {path})";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("down");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(_configPath)!, recursive: true);
        }
    }

    private void Parse(string output)
    {
        foreach (Match match in SiloLine().Matches(output))
        {
            var index = int.Parse(match.Groups["index"].Value);
            _silos[index] = new ClusterSilo(index, match.Groups["http"].Value, int.Parse(match.Groups["gateway"].Value), int.Parse(match.Groups["pid"].Value));
        }

        if (PostgresLine().Match(output) is { Success: true } postgres)
        {
            PostgresConnectionString = postgres.Groups["connection"].Value.Trim();
        }
    }

    private async Task<string> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "scripts", "cluster.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GATEHOUSE_CLUSTER_DIR"] = _stateDirectory;
        start.Environment["GATEHOUSE_SILO_DLL"] = Path.Combine(AppContext.BaseDirectory, "Gatehouse.Silo.dll");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cluster.sh {string.Join(' ', arguments)} did not finish within {CommandTimeout}:\n{await stdout}\n{await stderr}");
        }

        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"cluster.sh {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output}\n{await stderr}");
        }

        return output;
    }

    private static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "scripts", "cluster.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"scripts/cluster.sh not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^silo (?<index>\d+) http=(?<http>\S+) gateway=\S+:(?<gateway>\d+) pid=(?<pid>\d+)(?: (?<state>up|down))?\s*$", RegexOptions.Multiline)]
    private static partial Regex SiloLine();

    [GeneratedRegex(@"^postgres=(?<connection>.+)$", RegexOptions.Multiline)]
    private static partial Regex PostgresLine();
}
