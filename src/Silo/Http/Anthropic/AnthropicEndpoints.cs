using System.Globalization;
using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Gateway;
using Gatehouse.RateLimiting;
using Gatehouse.Silo.Http.OpenAI;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Anthropic;

/// <summary>The Anthropic-compatible HTTP API: <c>POST /v1/messages</c>, through the same <see cref="ChatPipeline"/> as the OpenAI one.</summary>
/// <remarks><c>anthropic-version</c> and <c>anthropic-beta</c> are accepted whatever their value and not forwarded.</remarks>
internal static class AnthropicEndpoints
{
    public static IEndpointRouteBuilder MapAnthropicApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/messages", MessagesAsync);
        return endpoints;
    }

    private static async Task MessagesAsync(
        HttpContext context, RequestAuthorizer authorizer, ChatPipeline pipeline, AppQuotas quotas, IOptions<GatehouseOptions> options, ILogger<RouterEndpointLog> logger)
    {
        var cancellationToken = context.RequestAborted;
        AppIdentity? app = null;
        try
        {
            app = authorizer.Authenticate(AppKeyReader.Read(context.Request));
            using var body = await RequestBody.ReadJsonAsync(context.Request, options.Value.MaxRequestBodyBytes, cancellationToken);
            var (request, stream) = AnthropicRequestReader.Read(body.RootElement);
            authorizer.EnsureMayUse(app, request.Model);

            var callOptions = CallOptionsReader.Read(context.Request);
            if (stream)
            {
                await StreamAsync(context, pipeline.StreamAsync(app, request, callOptions, cancellationToken), () => quotas.Snapshot(app.AppId), cancellationToken);
            }
            else
            {
                var response = await pipeline.CompleteAsync(app, request, callOptions, cancellationToken);
                GatewayHeaders.WriteRoute(context.Response, response.Route);
                RateLimitHeaders.Write(context.Response, quotas.Snapshot(app.AppId));
                context.Response.ContentType = "application/json";
                using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, JsonWriting.Options))
                {
                    AnthropicResponseWriter.WriteMessage(writer, response);
                }

                await context.Response.BodyWriter.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller went away; there is no one to answer.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            if (app is not null)
            {
                RateLimitHeaders.Write(context.Response, quotas.Snapshot(app.AppId));
            }

            await WriteErrorAsync(context, ErrorResponses.ToGatewayException(ex, logger));
        }
    }

    private static async Task StreamAsync(HttpContext context, IAsyncEnumerable<ChatChunk> chunks, Func<RateLimitSnapshot?> rateLimits, CancellationToken cancellationToken)
    {
        await using var enumerator = chunks.GetAsyncEnumerator(cancellationToken);
        // Headers go out with the first chunk: until it arrives the router may still fail over or fail cleanly.
        var hasChunk = await enumerator.MoveNextAsync();
        var response = context.Response;
        GatewayHeaders.WriteRoute(response, hasChunk ? enumerator.Current.Route : null);
        RateLimitHeaders.Write(response, rateLimits());
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";

        var output = response.BodyWriter;
        using var writer = new AnthropicStreamWriter(output);
        try
        {
            while (hasChunk)
            {
                writer.Write(enumerator.Current);
                await output.FlushAsync(cancellationToken);
                hasChunk = await enumerator.MoveNextAsync();
            }
        }
        catch (GatewayException ex)
        {
            // Mid-stream failures can no longer change the status; Anthropic reports them as an error event.
            writer.WriteError(ex);
            await output.FlushAsync(CancellationToken.None);
            return;
        }

        writer.Complete();
        await output.FlushAsync(cancellationToken);
    }

    private static async Task WriteErrorAsync(HttpContext context, GatewayException error)
    {
        var response = context.Response;
        response.StatusCode = GatewayErrorStatus.ToStatusCode(error.Error);
        if (error.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(response.BodyWriter, JsonWriting.Options))
        {
            AnthropicResponseWriter.WriteError(writer, error);
        }

        await response.BodyWriter.FlushAsync();
    }
}
