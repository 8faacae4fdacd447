using System.Globalization;
using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Metrics;
using Gatehouse.Gateway;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tracing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http;

/// <summary>
/// The request handling every chat front end shares: authenticate, read within the size limit, check the alias,
/// run the <see cref="ChatPipeline"/>, and answer — JSON or SSE — with the route and rate-limit headers, or with an
/// error in the vendor's envelope. Only the wire format differs between front ends.
/// </summary>
internal static class ChatEndpoint
{
    /// <summary>The request header a caller (or a proxy in front) may name its request by; echoed in the response.</summary>
    public const string RequestIdHeader = "x-request-id";

    public static async Task HandleAsync(HttpContext context, ChatWireFormat format)
    {
        var services = context.RequestServices;
        var authorizer = services.GetRequiredService<RequestAuthorizer>();
        var quotas = services.GetRequiredService<AppQuotas>();
        var cancellationToken = context.RequestAborted;
        var metered = services.GetRequiredService<GatehouseMetrics>().Start(format.Api);
        var requestId = RequestIds.FromCaller(context.Request.Headers[RequestIdHeader]);
        context.Response.Headers[format.RequestIdHeader] = requestId;
        var logger = services.GetRequiredService<ILogger<RouterEndpointLog>>();
        using var logScope = RequestIds.BeginScope(logger, requestId);
        AppIdentity? app = null;
        try
        {
            app = authorizer.Authenticate(AppKeyReader.Read(context.Request));
            metered.App = app.AppId;
            var options = services.GetRequiredService<IOptions<GatehouseOptions>>().Value;
            using var body = await RequestBody.ReadJsonAsync(context.Request, options.MaxRequestBodyBytes, cancellationToken);
            var exchange = format.ReadRequest(body.RootElement, ImageUrlPolicy.For(options.AllowHttpImageUrls), services);
            authorizer.EnsureMayUse(app, exchange.Request.Model);
            metered.Alias = exchange.Request.Model;
            await exchange.PrepareAsync(app, cancellationToken);

            var pipeline = services.GetRequiredService<ChatPipeline>();
            var callOptions = CallOptionsReader.Read(context.Request) with { RequestId = requestId };
            if (exchange.Stream)
            {
                await StreamAsync(context, exchange, pipeline.StreamAsync(app, exchange.Request, callOptions, cancellationToken), () => quotas.Snapshot(app.AppId), metered, cancellationToken);
            }
            else
            {
                var response = await pipeline.CompleteAsync(app, exchange.Request, callOptions, cancellationToken);
                GatewayHeaders.WriteRoute(context.Response, response.Route);
                RateLimitHeaders.Write(context.Response, quotas.Snapshot(app.AppId));
                await exchange.WriteResponseAsync(context.Response, response);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller went away; there is no one to answer.
            metered.Failed(GatewayError.Canceled);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            if (app is not null)
            {
                RateLimitHeaders.Write(context.Response, quotas.Snapshot(app.AppId));
            }

            var error = ErrorResponses.ToGatewayException(ex, logger);
            metered.Failed(error.Error);
            await WriteErrorAsync(context, error, format.WriteError);
        }
        finally
        {
            metered.End();
        }
    }

    public static Task WriteErrorAsync(HttpContext context, GatewayException error, Action<Utf8JsonWriter, GatewayException> writeError)
    {
        var response = context.Response;
        response.StatusCode = GatewayErrorStatus.ToStatusCode(error.Error);
        if (error.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return WriteJsonAsync(response, error, writeError);
    }

    public static async Task WriteJsonAsync<T>(HttpResponse response, T value, Action<Utf8JsonWriter, T> write)
    {
        response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(response.BodyWriter, JsonWriting.Options))
        {
            write(writer, value);
        }

        await response.BodyWriter.FlushAsync();
    }

    private static async Task StreamAsync(
        HttpContext context, IChatExchange exchange, IAsyncEnumerable<ChatChunk> chunks, Func<RateLimitSnapshot?> rateLimits, MeteredRequest metered,
        CancellationToken cancellationToken)
    {
        await using var enumerator = chunks.GetAsyncEnumerator(cancellationToken);
        // Headers go out with the first chunk: until it arrives the router may still fail over or fail cleanly.
        var hasChunk = await enumerator.MoveNextAsync();
        metered.FirstChunk();
        var response = context.Response;
        GatewayHeaders.WriteRoute(response, hasChunk ? enumerator.Current.Route : null);
        RateLimitHeaders.Write(response, rateLimits());
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";

        var output = response.BodyWriter;
        using var writer = exchange.CreateStreamWriter(output);
        try
        {
            while (hasChunk)
            {
                writer.Write(enumerator.Current);
                // Flush only when the next chunk is not already there: a live stream still goes out chunk by chunk,
                // while a replayed one (a cache hit arrives as one batch) costs one write instead of one per chunk.
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    await output.FlushAsync(cancellationToken);
                }

                hasChunk = await next;
            }

            await exchange.StreamCompletedAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Mid-stream failures can no longer change the status; the vendor's error event reports them, whatever
            // failed (an upstream, or the silo of the cache shard relaying the answer), so the caller never sees a reset.
            var logger = context.RequestServices.GetRequiredService<ILogger<RouterEndpointLog>>();
            var error = ErrorResponses.ToGatewayException(ex, logger);
            metered.Failed(error.Error);
            writer.WriteError(error);
            await output.FlushAsync(CancellationToken.None);
            return;
        }

        writer.Complete();
        await output.FlushAsync(cancellationToken);
    }
}
