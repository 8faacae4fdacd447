using System.Globalization;
using System.Text;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>One HTTP/1.1 response as read off the wire: status, headers (names lower-cased) and the de-chunked body.</summary>
public sealed record RawHttpResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body, string Raw)
{
    public static RawHttpResponse Parse(byte[] bytes)
    {
        var span = bytes.AsSpan();
        var endOfHead = span.IndexOf("\r\n\r\n"u8);
        var head = Encoding.ASCII.GetString(endOfHead < 0 ? span : span[..endOfHead]);
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1)
            .Select(line => line.Split(':', 2))
            .ToDictionary(pair => pair[0].Trim().ToLowerInvariant(), pair => pair.Length > 1 ? pair[1].Trim() : "");
        var body = endOfHead < 0 ? [] : span[(endOfHead + 4)..].ToArray();
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return new RawHttpResponse(status, headers, Encoding.UTF8.GetString(body), Encoding.UTF8.GetString(bytes));
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> chunked)
    {
        var body = new List<byte>();
        while (chunked.Length > 0)
        {
            var lineEnd = chunked.IndexOf("\r\n"u8);
            var size = int.Parse(Encoding.ASCII.GetString(chunked[..lineEnd]), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                break;
            }

            body.AddRange(chunked.Slice(lineEnd + 2, size));
            chunked = chunked[(lineEnd + 2 + size + 2)..];
        }

        return [.. body];
    }
}
