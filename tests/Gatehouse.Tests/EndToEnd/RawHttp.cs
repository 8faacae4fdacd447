using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// HTTP/1.1 over a plain <see cref="TcpClient"/>, for requests <see cref="HttpClient"/> refuses to send (no Host, a bad
/// Content-Length, raw non-UTF-8 bytes, a broken chunked body) and for sending a body slowly or only in part.
/// </summary>
public static class RawHttp
{
    /// <summary>A request head (with <c>Connection: close</c>, so the answer ends at end of stream) and its body bytes.</summary>
    public static byte[] Request(string method, string path, byte[]? body = null, string? appKey = null, params string[] headers)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\n");
        if (!headers.Any(h => h.StartsWith("Host:", StringComparison.OrdinalIgnoreCase) || h == "-Host"))
        {
            head.Append("Host: 127.0.0.1\r\n");
        }

        head.Append("Connection: close\r\n");
        if (appKey is not null)
        {
            head.Append($"Authorization: Bearer {appKey}\r\n");
        }

        if (body is not null && !headers.Any(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) || h.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append($"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n");
        }

        foreach (var header in headers.Where(h => h != "-Host"))
        {
            head.Append(header).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body ?? []];
    }

    /// <summary>
    /// Sends <paramref name="parts"/> (waiting <paramref name="gap"/> between them), optionally closes the sending side,
    /// and reads until the server closes; null when it closed or reset the connection without answering.
    /// </summary>
    public static async Task<RawHttpResponse?> SendAsync(int port, IReadOnlyList<byte[]> parts, TimeSpan gap, bool closeAfterSend, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        var stream = client.GetStream();
        for (var i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(gap, cancellationToken);
            }

            await stream.WriteAsync(parts[i], cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }

        if (closeAfterSend)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }

        var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, cancellationToken);
        }
        catch (IOException)
        {
            // A reset after an answer (the server closing a connection whose body it did not read) loses nothing; a reset
            // before any answer is no answer.
        }

        return received.Length == 0 ? null : RawHttpResponse.Parse(received.ToArray());
    }
}
