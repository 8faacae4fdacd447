using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Gateway;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.OpenAI;

/// <summary>The OpenAI-compatible HTTP API: <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c>.</summary>
internal static partial class OpenAIEndpoints
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/chat/completions", ChatCompletionsAsync);
        endpoints.MapGet("/v1/models", ListModelsAsync);
        return endpoints;
    }

    private static async Task ChatCompletionsAsync(
        HttpContext context, RequestAuthorizer authorizer, ChatPipeline pipeline, AppQuotas quotas, IOptions<GatehouseOptions> options, ILogger<RouterEndpointLog> logger)
    {
        var cancellationToken = context.RequestAborted;
        AppIdentity? app = null;
        try
        {
            app = authorizer.Authenticate(AppKeyReader.Read(context.Request));
            using var body = await RequestBody.ReadJsonAsync(context.Request, options.Value.MaxRequestBodyBytes, cancellationToken);
            var (request, stream) = OpenAIRequestReader.Read(body.RootElement);
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
                await WriteJsonAsync(context.Response, response, static (writer, r) => OpenAIResponseWriter.WriteCompletion(writer, r));
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
        using var writer = new Utf8JsonWriter(output, JsonWriting.Options);
        try
        {
            while (hasChunk)
            {
                output.Write(DataPrefix);
                OpenAIResponseWriter.WriteChunk(writer, enumerator.Current);
                writer.Flush();
                writer.Reset();
                output.Write(EventEnd);
                // Flush only when the next chunk is not already there: a live stream still goes out chunk by chunk,
                // while a replayed one (a cache hit arrives as one batch) costs one write instead of one per chunk.
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    await output.FlushAsync(cancellationToken);
                }

                hasChunk = await next;
            }
        }
        catch (GatewayException ex)
        {
            // Mid-stream failures can no longer change the status; OpenAI reports them as an error event.
            output.Write(DataPrefix);
            ErrorResponses.WriteOpenAIError(writer, ex);
            writer.Flush();
            output.Write(EventEnd);
            await output.FlushAsync(CancellationToken.None);
            return;
        }

        output.Write(DoneEvent);
        await output.FlushAsync(cancellationToken);
    }

    private static async Task ListModelsAsync(HttpContext context, RequestAuthorizer authorizer, TimeProvider timeProvider, ILogger<RouterEndpointLog> logger)
    {
        try
        {
            var app = authorizer.Authenticate(AppKeyReader.Read(context.Request));
            var aliases = authorizer.ModelsFor(app);
            var created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
            await WriteJsonAsync(context.Response, (aliases, created), static (writer, m) => OpenAIResponseWriter.WriteModels(writer, m.aliases, m.created));
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, ErrorResponses.ToGatewayException(ex, logger));
        }
    }

    internal static Task WriteErrorAsync(HttpContext context, GatewayException error)
    {
        var response = context.Response;
        response.StatusCode = GatewayErrorStatus.ToStatusCode(error.Error);
        if (error.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return WriteJsonAsync(response, error, static (writer, e) => ErrorResponses.WriteOpenAIError(writer, e));
    }

    private static async Task WriteJsonAsync<T>(HttpResponse response, T value, Action<Utf8JsonWriter, T> write)
    {
        response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(response.BodyWriter, JsonWriting.Options))
        {
            write(writer, value);
        }

        await response.BodyWriter.FlushAsync();
    }
}

/// <summary>Log category of the HTTP endpoints.</summary>
internal sealed class RouterEndpointLog;
