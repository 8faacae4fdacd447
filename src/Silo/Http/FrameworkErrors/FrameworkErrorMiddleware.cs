using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>
/// Gives every error response the app did not write itself — no route (404), wrong method (405), an exception nothing
/// caught (500) — the vendor's error envelope instead of an empty body.
/// </summary>
/// <remarks>
/// It looks only at the status and headers after the rest of the pipeline ran, so answers the endpoints wrote pass
/// through untouched and uncopied.
/// </remarks>
internal sealed class FrameworkErrorMiddleware(RequestDelegate next, ILogger<RouterEndpointLog> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var response = context.Response;
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            var error = ErrorResponses.ToGatewayException(ex, logger);
            response.Clear();
            response.StatusCode = GatewayErrorStatus.ToStatusCode(error.Error);
            await ChatEndpoint.WriteJsonAsync(response, error, FrameworkErrorBody.IsAnthropicPath(context.Request.Path.Value)
                ? Anthropic.AnthropicResponseWriter.WriteError
                : ErrorResponses.WriteOpenAIError);
            return;
        }

        if (response.HasStarted || response.StatusCode < 400 || response.ContentLength is not null || response.ContentType is not null)
        {
            return;
        }

        var request = context.Request;
        var path = request.Path.Value;
        var message = FrameworkErrorBody.Message(response.StatusCode, request.Method, path, response.Headers.Allow.ToString() is { Length: > 0 } allow ? allow : null);
        await ChatEndpoint.WriteJsonAsync(
            response,
            (Anthropic: FrameworkErrorBody.IsAnthropicPath(path), response.StatusCode, message),
            static (writer, error) => FrameworkErrorBody.Write(writer, error.Anthropic, error.StatusCode, error.message));
    }
}
