using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Gateway;
using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.RateLimiting;
using Gatehouse.Routing;
using Gatehouse.Tracing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Embeddings;

/// <summary>
/// <c>POST /v1/embeddings</c> in OpenAI's format, for aliases of type <c>Embeddings</c>: authenticate, read within the
/// size limit, check the alias serves embeddings, run the <see cref="EmbeddingPipeline"/>, and answer with the route and
/// rate-limit headers, or with an error in OpenAI's envelope.
/// </summary>
internal static class EmbeddingsEndpoint
{
    private const string Api = "embeddings";

    public static IEndpointRouteBuilder MapEmbeddingsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/embeddings", HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var authorizer = services.GetRequiredService<RequestAuthorizer>();
        var quotas = services.GetRequiredService<AppQuotas>();
        var cancellationToken = context.RequestAborted;
        var metered = services.GetRequiredService<GatehouseMetrics>().Start(Api);
        var requestId = RequestIds.FromCaller(context.Request.Headers[ChatEndpoint.RequestIdHeader]);
        context.Response.Headers[ChatEndpoint.RequestIdHeader] = requestId;
        var logger = services.GetRequiredService<ILogger<RouterEndpointLog>>();
        using var logScope = RequestIds.BeginScope(logger, requestId);
        AppIdentity? app = null;
        try
        {
            app = authorizer.Authenticate(AppKeyReader.Read(context.Request));
            metered.App = app.AppId;
            var options = services.GetRequiredService<IOptions<GatehouseOptions>>().Value;
            using var body = await RequestBody.ReadJsonAsync(context.Request, options.MaxRequestBodyBytes, cancellationToken);
            var (request, encoding) = EmbeddingsRequestReader.Read(body.RootElement);
            authorizer.EnsureMayUse(app, request.Model, ModelType.Embeddings);
            metered.Alias = request.Model;

            var callOptions = CallOptionsReader.Read(context.Request) with { RequestId = requestId };
            var response = await services.GetRequiredService<EmbeddingPipeline>().EmbedAsync(app, request, callOptions, cancellationToken);
            GatewayHeaders.WriteRoute(context.Response, response.Route);
            RateLimitHeaders.Write(context.Response, quotas.Snapshot(app.AppId));
            await ChatEndpoint.WriteJsonAsync(context.Response, response, (writer, r) => EmbeddingsResponseWriter.Write(writer, r, encoding));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
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
            await ChatEndpoint.WriteErrorAsync(context, error, ErrorResponses.WriteOpenAIError);
        }
        finally
        {
            metered.End();
        }
    }
}
