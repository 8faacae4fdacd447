using System.Diagnostics;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;

namespace Gatehouse.Tracing;

/// <summary>
/// Gatehouse's spans (activity source <see cref="SourceName"/>): one per gateway request (<c>chat {alias}</c>) and one
/// per upstream attempt (<c>chat {upstream model}</c>, kind client), with the OpenTelemetry GenAI semantic-convention
/// attributes where they exist and <c>gatehouse.*</c> ones where they do not.
/// </summary>
/// <remarks>
/// A span is created only while a listener samples it (a tracer provider is configured): with tracing off, starting
/// one returns null and costs a check. Attributes never hold a key, a prompt or a completion.
/// </remarks>
public static class GatehouseActivities
{
    public const string SourceName = "Gatehouse";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The span of one caller's request on this silo's pipeline.</summary>
    public static Activity? StartRequest(string appId, ChatRequest request, string? requestId)
    {
        var activity = Source.StartActivity($"chat {request.Model}", ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.request.model", request.Model);
            activity.SetTag("gatehouse.app", appId);
            activity.SetTag("gatehouse.request_id", requestId);
            if (request.MaxTokens is { } maxTokens)
            {
                activity.SetTag("gen_ai.request.max_tokens", maxTokens);
            }
        }

        return activity;
    }

    /// <summary>The span of one caller's embeddings request on this silo's pipeline.</summary>
    public static Activity? StartEmbeddingRequest(string appId, EmbeddingRequest request, string? requestId)
    {
        var activity = Source.StartActivity($"embeddings {request.Model}", ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "embeddings");
            activity.SetTag("gen_ai.request.model", request.Model);
            activity.SetTag("gatehouse.app", appId);
            activity.SetTag("gatehouse.request_id", requestId);
        }

        return activity;
    }

    /// <summary>The span of one upstream attempt.</summary>
    /// <param name="provider">The provider called.</param>
    /// <param name="model">The upstream model.</param>
    /// <param name="attempt">The attempt's number within its request.</param>
    /// <param name="operation">GenAI's operation name: <c>chat</c> or <c>embeddings</c>.</param>
    public static Activity? StartAttempt(string provider, string model, int attempt, string operation = "chat")
    {
        var activity = Source.StartActivity($"{operation} {model}", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", operation);
            activity.SetTag("gen_ai.provider.name", provider);
            activity.SetTag("gen_ai.request.model", model);
            activity.SetTag("gatehouse.attempt", attempt);
        }

        return activity;
    }

    /// <summary>What answered: the upstream model, the cache result, the billed tokens.</summary>
    public static void Answered(this Activity? activity, RouteInfo? route, Usage? usage)
    {
        if (activity is null)
        {
            return;
        }

        if (route is not null)
        {
            activity.SetTag("gen_ai.provider.name", route.Provider);
            activity.SetTag("gen_ai.response.model", route.Model);
            activity.SetTag("gatehouse.attempts", route.Attempts);
            if (route.Cache is { } cache)
            {
                activity.SetTag("gatehouse.cache", cache);
            }
        }

        activity.Tokens(usage);
    }

    public static void Tokens(this Activity? activity, Usage? usage)
    {
        if (activity is not null && usage is not null)
        {
            activity.SetTag("gen_ai.usage.input_tokens", usage.PromptTokens);
            activity.SetTag("gen_ai.usage.output_tokens", usage.CompletionTokens);
        }
    }

    /// <summary>Marks the span of a stream that ended without its last chunk: broken, or abandoned by the caller.</summary>
    public static void Unfinished(this Activity? activity, bool canceled) =>
        activity?.SetStatus(ActivityStatusCode.Error, canceled ? "canceled" : "the stream did not complete");

    /// <summary>Marks the span failed with the error's kind (<c>error.type</c>); the message is safe to show (no secret).</summary>
    public static void Failed(this Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        var type = error is GatewayException gateway ? gateway.Error.ToString() : error.GetType().Name;
        activity.SetTag("error.type", type);
        activity.SetStatus(ActivityStatusCode.Error, error is GatewayException ? error.Message : type);
    }
}
