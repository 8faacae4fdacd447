using System.Text.Json;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.Admin;

/// <summary>The admin API's answers: JSON bodies, and errors in OpenAI's envelope with their status.</summary>
internal static class AdminResults
{
    public static IResult Error(GatewayException error) => new JsonResult(GatewayErrorStatus.ToStatusCode(error.Error), w => ErrorResponses.WriteOpenAIError(w, error));

    public static IResult Json(int status, Action<Utf8JsonWriter> write) => new JsonResult(status, write);

    private sealed class JsonResult(int status, Action<Utf8JsonWriter> write) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            return ChatEndpoint.WriteJsonAsync(httpContext.Response, write, (writer, w) => w(writer));
        }
    }
}
