using Gatehouse.Apps;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Responses;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>
/// The OpenAI Responses API: <c>POST /v1/responses</c> through the same <see cref="ChatEndpoint"/> as chat (so every
/// gateway feature applies), and the stored responses of the caller's app: <c>GET</c> and <c>DELETE
/// /v1/responses/{id}</c>, <c>GET /v1/responses/{id}/input_items</c>. Another app's response is a 404, as a missing one is.
/// </summary>
internal static class ResponsesEndpoints
{
    private static readonly ChatWireFormat Format = new(
        "responses",
        ChatEndpoint.RequestIdHeader,
        (body, images, services) => new ResponsesExchange(ResponsesRequestReader.Read(body, images), services),
        ErrorResponses.WriteOpenAIError);

    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/responses", (HttpContext context) => ChatEndpoint.HandleAsync(context, Format));
        endpoints.MapGet("/v1/responses/{id}", (HttpContext context, string id) => WithStoredAsync(context, id, static (context, response) =>
            ChatEndpoint.WriteJsonAsync(context.Response, response, ResponsesResponseWriter.WriteResponse)));
        endpoints.MapGet("/v1/responses/{id}/input_items", (HttpContext context, string id) => WithStoredAsync(context, id, static (context, response) =>
        {
            var query = context.Request.Query;
            var page = (Limit: ReadLimit(query["limit"]), Order: (string?)query["order"], After: (string?)query["after"]);
            // The writer checks the page before it writes anything, so a bad one is still a clean 400.
            return ChatEndpoint.WriteJsonAsync(context.Response, (response, page), static (writer, r) =>
                ResponsesResponseWriter.WriteInputItems(writer, r.response, r.page.Limit, r.page.Order, r.page.After));
        }));
        endpoints.MapDelete("/v1/responses/{id}", DeleteAsync);
        return endpoints;
    }

    private static Task WithStoredAsync(HttpContext context, string id, Func<HttpContext, StoredResponse, Task> write) =>
        AnswerAsync(context, async app =>
        {
            var response = await ResponseGrains.Find(context.RequestServices.GetRequiredService<IGrainFactory>(), id, app.AppId) ?? throw NotFound(id);
            await write(context, response);
        });

    private static Task DeleteAsync(HttpContext context, string id) =>
        AnswerAsync(context, async app =>
        {
            var deleted = ResponseGrains.IsResponseId(id)
                && await context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IResponseGrain>(id).DeleteAsync(app.AppId);
            if (!deleted)
            {
                throw NotFound(id);
            }

            await ChatEndpoint.WriteJsonAsync(context.Response, id, ResponsesResponseWriter.WriteDeleted);
        });

    private static async Task AnswerAsync(HttpContext context, Func<AppIdentity, Task> answer)
    {
        var services = context.RequestServices;
        try
        {
            var app = services.GetRequiredService<RequestAuthorizer>().Authenticate(AppKeyReader.Read(context.Request));
            await answer(app);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            var error = ErrorResponses.ToGatewayException(ex, services.GetRequiredService<ILogger<RouterEndpointLog>>());
            await ChatEndpoint.WriteErrorAsync(context, error, ErrorResponses.WriteOpenAIError);
        }
    }

    private static int? ReadLimit(string? value) =>
        value is null ? null
        : int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit
        : throw new GatewayException(GatewayError.InvalidRequest, $"Invalid 'limit': '{value}' is not a whole number.", "limit");

    private static GatewayException NotFound(string id) =>
        new(GatewayError.NotFound, $"Response with id '{id}' not found.", "response_id");
}
