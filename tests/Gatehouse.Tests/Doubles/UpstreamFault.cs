using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>A way an upstream's 200 answer can be broken, played by every upstream double in its own wire format.</summary>
public enum UpstreamFault
{
    None = 0,

    /// <summary>
    /// Streaming: some content, then a clean end without the closing event (OpenAI: no <c>finish_reason</c>, no
    /// <c>[DONE]</c>; Anthropic: no <c>message_stop</c>; Ollama: no <c>done:true</c> line). Non-streaming: the JSON
    /// answer cut in the middle, with a matching Content-Length.
    /// </summary>
    NoFinalEvent,

    /// <summary>A streaming request answered with the complete non-streaming JSON answer (<c>application/json</c>).</summary>
    JsonInsteadOfStream,

    /// <summary>200 with the right content type and an empty body.</summary>
    EmptyBody,

    /// <summary>200 with an HTML page (a proxy's or load balancer's), <c>text/html</c>.</summary>
    HtmlPage,

    /// <summary>200 with <c>application/json</c> whose body is the vendor's error envelope (an overloaded/server error).</summary>
    ErrorEnvelope,

    /// <summary>One line of <see cref="UpstreamReply.FaultBytes"/> bytes, never ended (chunked, no Content-Length).</summary>
    HugeLine,

    /// <summary>
    /// An ordinary answer of more than <see cref="UpstreamReply.FaultBytes"/> bytes: many ordinary events when streaming,
    /// one JSON body with its Content-Length otherwise.
    /// </summary>
    Oversized,

    /// <summary>Some bytes of the answer, then the connection is closed in the middle of the chunked body (a truncated answer).</summary>
    BreakMidAnswer,

    /// <summary>
    /// Streaming: some content, then the vendor's in-stream error event, an <c>invalid_request_error</c> whose message
    /// is <see cref="UpstreamReply.Text"/>. Non-streaming: a 200 whose body is that error's envelope.
    /// </summary>
    ErrorEventMidStream,
}

/// <summary>The vendor-specific pieces <see cref="UpstreamFaults"/> needs to play a fault in one vendor's format.</summary>
/// <param name="StreamContentType">The content type of the vendor's stream.</param>
/// <param name="StreamStart">The stream's opening events (may be empty).</param>
/// <param name="TextEvent">One complete stream event carrying a text delta.</param>
/// <param name="Answer">The complete non-streaming JSON answer for a text.</param>
/// <param name="ErrorEnvelope">The vendor's error envelope for an overloaded or failed server.</param>
/// <param name="InvalidRequest">The vendor's <c>invalid_request_error</c> envelope with a message.</param>
/// <param name="ErrorEvent">The vendor's in-stream event carrying an error envelope.</param>
public sealed record FaultWire(
    string StreamContentType,
    string StreamStart,
    Func<string, string> TextEvent,
    Func<string, string> Answer,
    string ErrorEnvelope,
    Func<string, string> InvalidRequest,
    Func<string, string> ErrorEvent)
{
    private const string Marker = "FAULTMARKER";

    /// <summary>The start of a stream event that carries text, up to where the text begins.</summary>
    public string TextEventPrefix => Before(TextEvent(Marker));

    /// <summary>The start of the non-streaming answer, up to where its text begins.</summary>
    public string AnswerPrefix => Before(Answer(Marker));

    private static string Before(string text) => text[..text.IndexOf(Marker, StringComparison.Ordinal)];
}

/// <summary>Writes an <see cref="UpstreamFault"/> as a real HTTP answer; shared by the upstream doubles.</summary>
public static class UpstreamFaults
{
    /// <summary>The HTML a misconfigured proxy answers with.</summary>
    public const string HtmlPage = "<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>";

    /// <param name="context">The request being answered.</param>
    /// <param name="reply">The fault to play, with its <see cref="UpstreamReply.FaultBytes"/> and <see cref="UpstreamReply.Text"/>.</param>
    /// <param name="stream">Whether the request asked for a stream.</param>
    /// <param name="wire">The vendor's format.</param>
    public static async Task WriteAsync(HttpContext context, UpstreamReply reply, bool stream, FaultWire wire)
    {
        var fault = reply.Fault;
        var faultBytes = reply.FaultBytes;
        var response = context.Response;
        var aborted = context.RequestAborted;
        response.StatusCode = 200;
        switch (fault)
        {
            case UpstreamFault.NoFinalEvent when stream:
                response.ContentType = wire.StreamContentType;
                await WriteFlushedAsync(context, wire.StreamStart + wire.TextEvent("an answer ") + wire.TextEvent("cut short")).ConfigureAwait(false);
                return;

            case UpstreamFault.NoFinalEvent:
            {
                var answer = wire.Answer("an answer cut short");
                var cut = Encoding.UTF8.GetBytes(answer[..(answer.Length / 2)]);
                response.ContentType = "application/json";
                response.ContentLength = cut.Length;
                await response.Body.WriteAsync(cut, aborted).ConfigureAwait(false);
                return;
            }

            case UpstreamFault.JsonInsteadOfStream:
                response.ContentType = "application/json";
                await response.WriteAsync(wire.Answer("a whole answer, not a stream"), aborted).ConfigureAwait(false);
                return;

            case UpstreamFault.EmptyBody:
                response.ContentType = stream ? wire.StreamContentType : "application/json";
                response.ContentLength = 0;
                return;

            case UpstreamFault.HtmlPage:
                response.ContentType = "text/html; charset=utf-8";
                await response.WriteAsync(HtmlPage, aborted).ConfigureAwait(false);
                return;

            case UpstreamFault.ErrorEnvelope:
                response.ContentType = "application/json";
                await response.WriteAsync(wire.ErrorEnvelope, aborted).ConfigureAwait(false);
                return;

            case UpstreamFault.HugeLine:
                response.ContentType = stream ? wire.StreamContentType : "application/json";
                await WriteFlushedAsync(context, stream ? wire.StreamStart + wire.TextEventPrefix : wire.AnswerPrefix).ConfigureAwait(false);
                await WriteFillerAsync(context, faultBytes).ConfigureAwait(false);
                return;

            case UpstreamFault.Oversized when stream:
            {
                response.ContentType = wire.StreamContentType;
                var piece = new string('o', 1000);
                var text = new StringBuilder(wire.StreamStart);
                for (var written = 0; written <= faultBytes; written += piece.Length)
                {
                    text.Append(wire.TextEvent(piece));
                }

                await WriteFlushedAsync(context, text.ToString()).ConfigureAwait(false);
                return;
            }

            case UpstreamFault.Oversized:
            {
                var body = Encoding.UTF8.GetBytes(wire.Answer(new string('o', faultBytes)));
                response.ContentType = "application/json";
                response.ContentLength = body.Length;
                await response.Body.WriteAsync(body, aborted).ConfigureAwait(false);
                return;
            }

            case UpstreamFault.BreakMidAnswer:
            {
                var start = stream ? wire.StreamStart + wire.TextEvent("an answer that ") : wire.Answer("an answer that breaks")[..20];
                await BreakMidBodyAsync(context, stream ? wire.StreamContentType : "application/json", start, chunked: stream).ConfigureAwait(false);
                return;
            }

            case UpstreamFault.ErrorEventMidStream when stream:
                response.ContentType = wire.StreamContentType;
                await WriteFlushedAsync(
                    context, wire.StreamStart + wire.TextEvent("an answer that ") + wire.ErrorEvent(wire.InvalidRequest(reply.Text ?? "invalid request"))).ConfigureAwait(false);
                return;

            case UpstreamFault.ErrorEventMidStream:
                response.ContentType = "application/json";
                await response.WriteAsync(wire.InvalidRequest(reply.Text ?? "invalid request"), aborted).ConfigureAwait(false);
                return;

            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, "not a fault");
        }
    }

    /// <summary>
    /// Sends a 200 whose body stops where its framing says more must come (inside a chunked body, or short of its
    /// Content-Length), then closes the sending side of the connection.
    /// </summary>
    /// <remarks>
    /// Written to the socket directly rather than through Kestrel: a close (FIN) after Kestrel's asynchronous output
    /// could overtake bytes still queued, and Kestrel's own abort is a reset, which can make the client's kernel drop
    /// bytes it has received but not read yet. Either would turn the break into "could not connect".
    /// </remarks>
    private static async Task BreakMidBodyAsync(HttpContext context, string contentType, string bodyStart, bool chunked)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket
            ?? throw new InvalidOperationException("the double needs Kestrel's socket transport to break a connection mid-body");
        var body = Encoding.UTF8.GetBytes(bodyStart);
        var head = chunked
            ? $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n"
            : $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length * 4}\r\n\r\n";
        socket.Send(Encoding.ASCII.GetBytes(head));
        socket.Send(body);
        if (chunked)
        {
            socket.Send("\r\n"u8);
        }

        socket.Shutdown(SocketShutdown.Send);
        try
        {
            // Until the client, having read the truncated body, closes its side of the connection.
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        context.Abort();
    }

    private static async Task WriteFlushedAsync(HttpContext context, string text)
    {
        await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="bytes"/> letters in 64 KiB writes, until done or the client goes away.</summary>
    private static async Task WriteFillerAsync(HttpContext context, int bytes)
    {
        var block = new byte[64 * 1024];
        block.AsSpan().Fill((byte)'x');
        try
        {
            for (var written = 0; written < bytes; written += block.Length)
            {
                await context.Response.Body.WriteAsync(block.AsMemory(0, Math.Min(block.Length, bytes - written)), context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The gateway stopped reading at its limit and closed the connection: what the fault is there to show.
        }
    }
}
