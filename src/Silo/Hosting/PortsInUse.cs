using System.Net;
using System.Net.Sockets;
using Gatehouse.Configuration;
using Gatehouse.Silo.Configuration;

namespace Gatehouse.Silo.Hosting;

/// <summary>
/// Finds the ports the silo would listen on that another process already holds, before anything binds them.
/// </summary>
/// <remarks>
/// Kestrel and Orleans bind with address reuse, so on Linux a second silo could share a first one's ports and a grain
/// client would reach whichever the kernel picked. A probe socket that does not ask to share the port fails to bind
/// while anything listens on it, on any local address; it still binds over connections left in TIME_WAIT, so a silo
/// restarted on its own ports is not refused.
/// </remarks>
internal static class PortsInUse
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    /// <returns>One line per taken port, naming the port and the setting that chose it; empty when all are free.</returns>
    public static List<string> Find(GatehouseOptions options, IConfiguration configuration)
    {
        var wanted = new List<(int Port, string Setting)>
        {
            (options.Cluster.SiloPort, $"{GatehouseOptions.SectionName}:Cluster:SiloPort"),
            (options.Cluster.GatewayPort, $"{GatehouseOptions.SectionName}:Cluster:GatewayPort"),
        };
        foreach (var url in HttpUrls(configuration))
        {
            if (Uri.TryCreate(url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                && uri.Port > 0)
            {
                wanted.Add((uri.Port, $"the HTTP address {url}"));
            }
        }

        return [.. wanted.Where(w => IsTaken(w.Port)).Select(w => $"port {w.Port} ({w.Setting}) is already in use by another process; choose a free port or stop that process.")];
    }

    /// <summary>The HTTP addresses as ASP.NET reads them: <c>--urls</c>/<c>urls</c>, then <c>ASPNETCORE_URLS</c>, else the default.</summary>
    private static string[] HttpUrls(IConfiguration configuration)
    {
        var urls = configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls))
        {
            urls = configuration["ASPNETCORE_URLS"];
        }

        if (string.IsNullOrWhiteSpace(urls))
        {
            urls = GatehouseConfiguration.DefaultUrl;
        }

        return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static bool IsTaken(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (OperatingSystem.IsLinux())
        {
            // SO_REUSEADDR alone (SocketOptionName.ReuseAddress would add SO_REUSEPORT, which is how ports get shared).
            probe.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        }
        try
        {
            probe.Bind(new IPEndPoint(IPAddress.Any, port));
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return true;
        }
    }
}
