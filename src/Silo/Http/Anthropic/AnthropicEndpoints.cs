namespace Gatehouse.Silo.Http.Anthropic;

/// <summary>The Anthropic-compatible HTTP API: <c>POST /v1/messages</c>, through the same <see cref="ChatEndpoint"/> as the OpenAI one.</summary>
/// <remarks><c>anthropic-version</c> and <c>anthropic-beta</c> are accepted whatever their value and not forwarded.</remarks>
internal static class AnthropicEndpoints
{
    private static readonly ChatWireFormat Format = ChatWireFormat.Plain(
        "messages",
        // Anthropic names its requests in request-id (the SDKs expose it as the response's request id).
        "request-id",
        AnthropicRequestReader.Read,
        AnthropicResponseWriter.WriteMessage,
        output => new AnthropicStreamWriter(output),
        AnthropicResponseWriter.WriteError);

    public static IEndpointRouteBuilder MapAnthropicApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/messages", (HttpContext context) => ChatEndpoint.HandleAsync(context, Format));
        return endpoints;
    }
}
