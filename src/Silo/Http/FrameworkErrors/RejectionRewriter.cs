using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>Passes Kestrel's output through, replacing a bodiless rejection response with one that carries the envelope.</summary>
internal sealed class RejectionRewriter(PipeWriter inner, RequestLineWatcher requests) : PipeWriter
{
    private static ReadOnlySpan<byte> EmptyBodyHeader => "\r\nContent-Length: 0\r\n"u8;
    private static ReadOnlySpan<byte> ContentTypeHeader => "\r\nContent-Type:"u8;
    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    private Memory<byte> _memory;

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _memory = inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        var written = _memory.Span[..bytes];
        if (IsRejectionHead(written, out var status))
        {
            Rewrite(written.ToArray(), status);
            return;
        }

        inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    /// <summary>A whole response head, status 4xx or 5xx, with an empty body and no content type: what Kestrel sends on a rejection.</summary>
    private static bool IsRejectionHead(ReadOnlySpan<byte> written, out int status)
    {
        status = 0;
        if (written.Length < 16 || !written.StartsWith("HTTP/1."u8) || written[8] != (byte)' ' || written[9] is not ((byte)'4' or (byte)'5')
            || !written.EndsWith(EndOfHead) || written.IndexOf(EndOfHead) != written.Length - EndOfHead.Length
            || written.IndexOf(EmptyBodyHeader) < 0 || written.IndexOf(ContentTypeHeader) >= 0)
        {
            return false;
        }

        status = ((written[9] - '0') * 100) + ((written[10] - '0') * 10) + (written[11] - '0');
        return true;
    }

    private void Rewrite(byte[] head, int status)
    {
        var body = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(body, JsonWriting.Options))
        {
            FrameworkErrorBody.Write(json, requests.LastRequestIsAnthropic, status, FrameworkErrorBody.Message(status, null, null, null));
        }

        var headers = head.AsSpan();
        var emptyBody = headers.IndexOf(EmptyBodyHeader);
        var contentHeaders = Encoding.ASCII.GetBytes($"\r\nContent-Type: application/json\r\nContent-Length: {body.WrittenCount}\r\n");
        var length = emptyBody + contentHeaders.Length + (headers.Length - emptyBody - EmptyBodyHeader.Length) + body.WrittenCount;
        var output = inner.GetSpan(length);
        headers[..emptyBody].CopyTo(output);
        var at = emptyBody;
        contentHeaders.CopyTo(output[at..]);
        at += contentHeaders.Length;
        headers[(emptyBody + EmptyBodyHeader.Length)..].CopyTo(output[at..]);
        at += headers.Length - emptyBody - EmptyBodyHeader.Length;
        body.WrittenSpan.CopyTo(output[at..]);
        inner.Advance(at + body.WrittenCount);
    }
}
