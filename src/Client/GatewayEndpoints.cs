using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Orleans.Runtime;

namespace Gatehouse.Client;

/// <summary>Turns <see cref="GatehouseClientOptions"/> into the gateway URIs Orleans' static gateway list expects.</summary>
internal static class GatewayEndpoints
{
    /// <summary>Parses <c>host:port</c>, <c>a.b.c.d:port</c> or <c>[v6]:port</c>.</summary>
    public static bool TryParse(string? endpoint, [NotNullWhen(true)] out string? host, out int port)
    {
        host = null;
        port = 0;
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return false;
        }

        var text = endpoint.Trim();
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        var hostPart = text[..colon];
        if (hostPart.StartsWith('[') && hostPart.EndsWith(']'))
        {
            hostPart = hostPart[1..^1];
        }
        else if (hostPart.Contains(':', StringComparison.Ordinal))
        {
            // An unbracketed IPv6 address cannot be told apart from its port.
            return false;
        }

        if (hostPart.Length == 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            || port is < 1 or > 65535)
        {
            return false;
        }

        host = hostPart;
        return true;
    }

    /// <summary>The gateway URIs for the configured cluster kind; host names are resolved now, once.</summary>
    public static List<Uri> ToGatewayUris(GatehouseClientOptions options)
    {
        if (options.Cluster == GatehouseClusterKind.Localhost)
        {
            return [new IPEndPoint(IPAddress.Loopback, options.GatewayPort).ToGatewayUri()];
        }

        var uris = new List<Uri>(options.Gateways.Count);
        foreach (var gateway in options.Gateways)
        {
            if (!TryParse(gateway, out var host, out var port))
            {
                throw new FormatException($"Gateway endpoint '{gateway}' is not host:port.");
            }

            uris.Add(new IPEndPoint(Resolve(host), port).ToGatewayUri());
        }

        return uris;
    }

    private static IPAddress Resolve(string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        // Orleans connects to IP endpoints only; IPv4 first because silos listen on IPv4 by default.
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"Gateway host '{host}' resolved to no address.");
    }
}
