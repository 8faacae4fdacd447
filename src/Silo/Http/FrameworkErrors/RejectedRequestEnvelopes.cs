using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>
/// A Kestrel connection middleware that puts the vendor's error envelope on the responses Kestrel writes itself when it
/// rejects a request before the app sees it (malformed request line, missing Host, invalid Content-Length, headers too
/// large): Kestrel offers no hook for their bodies and sends them empty.
/// </summary>
/// <remarks>
/// The connection's pipes are wrapped, not copied: the reader notes which API each request line names, and the writer
/// checks the first bytes of each write for a rejection head (a 4xx/5xx with <c>Content-Length: 0</c> and no
/// <c>Content-Type</c>, which the app never sends because <see cref="FrameworkErrorMiddleware"/> fills every empty error).
/// Only such a head is rewritten; everything else passes straight through.
/// </remarks>
internal static class RejectedRequestEnvelopes
{
    public static ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var transport = connection.Transport;
        connection.Transport = new TappedTransport(transport);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
        }
    };

    private sealed class TappedTransport : IDuplexPipe
    {
        public TappedTransport(IDuplexPipe inner)
        {
            var input = new RequestLineWatcher(inner.Input);
            Input = input;
            Output = new RejectionRewriter(inner.Output, input);
        }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }
    }
}

/// <summary>Remembers whether the request line Kestrel last started to parse names the Anthropic API.</summary>
/// <remarks>
/// Kestrel reads again before parsing each request, and each read starts where its parsing stands, so a read that starts
/// with a request line starts with the request being parsed. Reads that start elsewhere (headers, bodies) change nothing.
/// </remarks>
internal sealed class RequestLineWatcher(PipeReader inner) : PipeReader
{
    private const int LongestMethod = 16;
    private static ReadOnlySpan<byte> AnthropicPath => "/v1/messages"u8;

    public bool LastRequestIsAnthropic { get; private set; }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            var result = read.Result;
            Watch(result.Buffer);
            return new ValueTask<ReadResult>(result);
        }

        return WatchAsync(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        Watch(result.Buffer);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> WatchAsync(ValueTask<ReadResult> read)
    {
        var result = await read;
        Watch(result.Buffer);
        return result;
    }

    private void Watch(ReadOnlySequence<byte> buffer)
    {
        var start = buffer.FirstSpan;
        var space = start[..Math.Min(start.Length, LongestMethod + 1)].IndexOf((byte)' ');
        if (space <= 0 || start[..space].ContainsAnyExceptInRange((byte)'A', (byte)'Z'))
        {
            return;
        }

        var target = start[(space + 1)..];
        if (target.Length <= AnthropicPath.Length)
        {
            // Too little of the line has arrived to tell; the next read will have more.
            return;
        }

        LastRequestIsAnthropic = target.StartsWith(AnthropicPath) && target[AnthropicPath.Length] is (byte)' ' or (byte)'/' or (byte)'?';
    }
}

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
        using (var json = new System.Text.Json.Utf8JsonWriter(body, JsonWriting.Options))
        {
            FrameworkErrorBody.Write(json, requests.LastRequestIsAnthropic, status, FrameworkErrorBody.Message(status, null, null, null));
        }

        var headers = head.AsSpan();
        var emptyBody = headers.IndexOf(EmptyBodyHeader);
        var contentHeaders = System.Text.Encoding.ASCII.GetBytes($"\r\nContent-Type: application/json\r\nContent-Length: {body.WrittenCount}\r\n");
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
