using System.IO.Pipelines;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http;

/// <summary>One vendor's wire format for a chat endpoint: how to read a request into an exchange, and how to write errors.</summary>
internal sealed record ChatWireFormat(
    string Api,
    string RequestIdHeader,
    Func<JsonElement, ImageUrlPolicy, IServiceProvider, IChatExchange> ReadRequest,
    Action<Utf8JsonWriter, GatewayException> WriteError)
{
    /// <summary>A format whose answers are written from the canonical answer alone (<see cref="PlainChatExchange"/>).</summary>
    public static ChatWireFormat Plain(
        string api,
        string requestIdHeader,
        Func<JsonElement, ImageUrlPolicy, (ChatRequest Request, bool Stream)> readRequest,
        Action<Utf8JsonWriter, ChatResponse> writeResponse,
        Func<PipeWriter, IChatStreamWriter> createStreamWriter,
        Action<Utf8JsonWriter, GatewayException> writeError) =>
        new(api, requestIdHeader, (body, images, _) =>
        {
            var (request, stream) = readRequest(body, images);
            return new PlainChatExchange(request, stream, writeResponse, createStreamWriter);
        }, writeError);
}
