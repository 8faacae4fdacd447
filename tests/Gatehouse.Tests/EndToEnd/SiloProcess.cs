using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>The real Gatehouse silo host as a child process on loopback ports, configured by a JSON file.</summary>
/// <remarks>Started from the build output of the test project; stopped (whole process tree, by PID) on dispose.</remarks>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _lineWaiters = [];
    private readonly string? _configPath;

    private SiloProcess(Process process, string? configPath, string baseUrl, int gatewayPort, int siloPort)
    {
        _process = process;
        _configPath = configPath;
        BaseUrl = baseUrl;
        GatewayPort = gatewayPort;
        SiloPort = siloPort;
    }

    /// <summary>The silo's HTTP base URL, e.g. <c>http://127.0.0.1:5123</c>.</summary>
    public string BaseUrl { get; }

    /// <summary>The Orleans gateway port grain clients connect to.</summary>
    public int GatewayPort { get; }

    /// <summary>The Orleans silo-to-silo port: a second silo joins this one with <c>Gatehouse__Cluster__PrimarySiloPort</c>.</summary>
    public int SiloPort { get; }

    public int ProcessId => _process.Id;

    /// <summary>Everything the process printed so far (for assertions and failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The first line of output (already printed, or printed within <paramref name="timeout"/>) that matches.</summary>
    /// <exception cref="TimeoutException">No such line within the timeout; the message holds the output.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            var printed = _output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(match);
            if (printed is not null)
            {
                return printed;
            }

            _lineWaiters.Add((match, found));
        }

        try
        {
            return await found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No matching line within {timeout}:\n{Output}");
        }
        finally
        {
            lock (_output)
            {
                _lineWaiters.RemoveAll(w => w.Found == found);
            }
        }
    }

    /// <param name="configJson">The file given as GATEHOUSE_CONFIG; null runs the embedded default configuration.</param>
    /// <param name="environment">Extra environment variables (they win over the free ports picked here).</param>
    /// <param name="ports">The HTTP, silo and gateway ports to use instead of free ones (null: a free one).</param>
    public static async Task<SiloProcess> StartAsync(
        string? configJson, IReadOnlyDictionary<string, string>? environment = null, (int? Http, int? Silo, int? Gateway) ports = default,
        string? workingDirectory = null)
    {
        string? configPath = null;
        if (configJson is not null)
        {
            configPath = Path.Combine(Path.GetTempPath(), $"gatehouse-e2e-{Guid.NewGuid():n}.json");
            await File.WriteAllTextAsync(configPath, configJson);
        }

        var httpPort = ports.Http ?? FreePort();
        var siloPort = ports.Silo ?? FreePort();
        var gatewayPort = ports.Gateway ?? FreePort();
        var baseUrl = $"http://127.0.0.1:{httpPort}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gatehouse.Silo.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseUrl);
        if (configPath is not null)
        {
            start.Environment["GATEHOUSE_CONFIG"] = configPath;
        }

        start.Environment["Gatehouse__Cluster__SiloPort"] = siloPort.ToString();
        start.Environment["Gatehouse__Cluster__GatewayPort"] = gatewayPort.ToString();
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var silo = new SiloProcess(process, configPath, baseUrl, gatewayPort, siloPort);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data, ready);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data, null);
        process.Exited += (_, _) =>
        {
            // Let the output readers drain before reporting what the process said.
            process.WaitForExit();
            ready.TrySetException(new SiloExitedException(process.ExitCode, silo.Output));
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await ready.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            await silo.DisposeAsync();
            throw new TimeoutException($"The silo did not report listening within {StartTimeout}:\n{silo.Output}");
        }

        return silo;
    }

    /// <summary>Starts the silo when it is expected to refuse to start, and returns how it exited.</summary>
    /// <exception cref="InvalidOperationException">The silo started instead (it is stopped first).</exception>
    public static async Task<SiloExitedException> StartExpectingExitAsync(
        string? configJson, IReadOnlyDictionary<string, string>? environment = null, (int? Http, int? Silo, int? Gateway) ports = default)
    {
        SiloProcess silo;
        try
        {
            silo = await StartAsync(configJson, environment, ports);
        }
        catch (SiloExitedException exited)
        {
            return exited;
        }

        await using (silo)
        {
            throw new InvalidOperationException($"The silo started, but it was expected to refuse the configuration:\n{silo.Output}");
        }
    }

    /// <summary>Stops the silo as an orchestrator does (SIGTERM): it leaves the cluster in order; returns once it has exited.</summary>
    public async Task StopGracefullyAsync()
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!)
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
            if (_configPath is not null)
            {
                File.Delete(_configPath);
            }
        }
    }

    private void Append(string? line, TaskCompletionSource? ready)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var (match, found) in _lineWaiters)
            {
                if (match(line))
                {
                    found.TrySetResult(line);
                }
            }
        }

        if (ready is not null && line.StartsWith("Gatehouse listening on ", StringComparison.Ordinal))
        {
            ready.TrySetResult();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The silo process ended before it was ready.</summary>
public sealed class SiloExitedException(int exitCode, string output)
    : Exception($"The silo exited with code {exitCode} before it was ready:\n{output}")
{
    public int ExitCode { get; } = exitCode;

    public string Output { get; } = output;
}
