using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Tests.Support;

/// <summary>Ports for tests that need an address where nothing answers.</summary>
public static class TestPorts
{
    /// <summary>A loopback port that was free a moment ago and has no listener: a connection to it is refused.</summary>
    public static int Closed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
