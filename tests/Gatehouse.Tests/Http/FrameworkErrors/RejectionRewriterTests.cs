using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Gatehouse.Silo.Http.FrameworkErrors;
using Xunit;

namespace Gatehouse.Tests.Http.FrameworkErrors;

public sealed class RejectionRewriterTests
{
    private const string KestrelRejection = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\nDate: Tue, 01 Dec 2026 22:00:00 GMT\r\nServer: Kestrel\r\n\r\n";

    [Theory]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", false)]
    [InlineData("POST /v1/messages HTTP/1.1\r\nHost: x\r\n", true)]
    [InlineData("POST /v1/messages?beta=true HTTP/1.1\r\n", true)]
    [InlineData("POST /v1/messagesX HTTP/1.1\r\n", false)]
    public async Task Advance_KestrelRejectionHead_BecomesTheVendorEnvelope(string requestStart, bool anthropic)
    {
        var (output, read) = await RoundTripAsync(requestStart, KestrelRejection);

        var endOfHead = output.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = output[..endOfHead];
        var body = output[(endOfHead + 4)..];
        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", head);
        Assert.Contains("\r\nConnection: close", head);
        Assert.Contains("\r\nContent-Type: application/json", head);
        Assert.Contains($"\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}", head);
        Assert.DoesNotContain("Content-Length: 0", head);
        using var document = JsonDocument.Parse(body);
        Assert.Equal(anthropic, document.RootElement.TryGetProperty("type", out _));
        Assert.Equal(requestStart, read);
    }

    [Theory]
    [InlineData("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n")]
    [InlineData("HTTP/1.1 431 in a body that is not a response head")]
    [InlineData("data: HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")]
    public async Task Advance_AnythingElse_PassesThroughUnchanged(string written)
    {
        var (output, _) = await RoundTripAsync("GET /v1/models HTTP/1.1\r\n", written);

        Assert.Equal(written, output);
    }

    /// <summary>Reads <paramref name="requestStart"/> through the watcher, then writes <paramref name="written"/> through the rewriter.</summary>
    private static async Task<(string Output, string Read)> RoundTripAsync(string requestStart, string written)
    {
        var input = new Pipe();
        var transportOutput = new Pipe();
        await input.Writer.WriteAsync(Encoding.ASCII.GetBytes(requestStart));
        var watcher = new RequestLineWatcher(input.Reader);
        var result = await watcher.ReadAsync();
        var read = Encoding.ASCII.GetString(result.Buffer);
        watcher.AdvanceTo(result.Buffer.End);

        var rewriter = new RejectionRewriter(transportOutput.Writer, watcher);
        var bytes = Encoding.ASCII.GetBytes(written);
        bytes.CopyTo(rewriter.GetSpan(bytes.Length));
        rewriter.Advance(bytes.Length);
        await rewriter.FlushAsync();
        await rewriter.CompleteAsync();

        var output = new MemoryStream();
        await transportOutput.Reader.CopyToAsync(output);
        return (Encoding.UTF8.GetString(output.ToArray()), read);
    }
}
