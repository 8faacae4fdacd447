using Gatehouse.Apps;

namespace Gatehouse.Silo.Http.OpenAI;

/// <summary>The OpenAI-compatible HTTP API: <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c>.</summary>
internal static class OpenAIEndpoints
{
    private static readonly ChatWireFormat Format = ChatWireFormat.Plain(
        "chat_completions",
        ChatEndpoint.RequestIdHeader,
        OpenAIRequestReader.Read,
        OpenAIResponseWriter.WriteCompletion,
        output => new OpenAIStreamWriter(output),
        ErrorResponses.WriteOpenAIError);

    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/chat/completions", (HttpContext context) => ChatEndpoint.HandleAsync(context, Format));
        endpoints.MapGet("/v1/models", ListModelsAsync);
        return endpoints;
    }

    private static async Task ListModelsAsync(HttpContext context, RequestAuthorizer authorizer, TimeProvider timeProvider, ILogger<RouterEndpointLog> logger)
    {
        try
        {
            var app = authorizer.Authenticate(AppKeyReader.Read(context.Request));
            var aliases = authorizer.ModelsFor(app);
            var created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
            await ChatEndpoint.WriteJsonAsync(context.Response, (aliases, created), static (writer, m) => OpenAIResponseWriter.WriteModels(writer, m.aliases, m.created));
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            await ChatEndpoint.WriteErrorAsync(context, ErrorResponses.ToGatewayException(ex, logger), ErrorResponses.WriteOpenAIError);
        }
    }
}
