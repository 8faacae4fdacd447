using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>
/// The double's <c>POST /api/embed</c>: <c>{"model","embeddings":[[…],…],"prompt_eval_count"}</c> with the
/// <see cref="OpenAIUpstreamDouble.EmbeddingFor"/> vectors, cut to <c>dimensions</c>; errors as <c>{"error":"…"}</c>.
/// </summary>
/// <remarks>
/// Replies come from <see cref="EmbedBehavior"/> when it returns one (its <see cref="UpstreamReply.Body"/>, when set,
/// is sent verbatim, with its <see cref="UpstreamReply.Headers"/>), else a success with <see cref="UpstreamReply.PromptTokens"/>
/// as the count.
/// </remarks>
public sealed partial class OllamaUpstreamDouble
{
    private const string EmbedPath = "/api/embed";

    private readonly ConcurrentQueue<RecordedRequest> _embedRequests = new();

    /// <summary>Decides the reply to an embed request; a null result is a success.</summary>
    public Func<RecordedRequest, UpstreamReply?>? EmbedBehavior { get; set; }

    /// <summary>The length of a vector when the request names no <c>dimensions</c>. The default value is 8.</summary>
    public int DefaultEmbeddingDimensions { get; set; } = 8;

    public IReadOnlyList<RecordedRequest> EmbedRequests => _embedRequests.ToArray();

    /// <summary>Ollama's answer for a model it does not have.</summary>
    public static UpstreamReply ModelNotFound(string model) => Error(404, $"model \"{model}\" not found, try pulling it first");

    private async Task HandleEmbedAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        var json = JsonNode.Parse(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new RecordedRequest(context.Request.Method, context.Request.Path, null, headers, body, json);
        _embedRequests.Enqueue(request);

        var reply = EmbedBehavior?.Invoke(request) ?? new UpstreamReply();
        if (reply.DelayMs > 0)
        {
            try
            {
                await Task.Delay(reply.DelayMs, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (reply.Body is { } verbatim)
        {
            await context.Response.WriteAsync(verbatim, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (reply.Status != 200)
        {
            await context.Response.WriteAsync("""{"error":"failed"}""", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var model = request.Model ?? "unknown";
        var inputs = json?["input"] switch
        {
            JsonArray array => array.Select(i => i!.GetValue<string>()).ToList(),
            JsonValue value => [value.GetValue<string>()],
            _ => [],
        };
        var dimensions = json?["dimensions"]?.GetValue<int>() ?? DefaultEmbeddingDimensions;
        var answer = new JsonObject
        {
            ["model"] = model,
            ["embeddings"] = new JsonArray([.. inputs.Select(i =>
                (JsonNode)new JsonArray([.. OpenAIUpstreamDouble.EmbeddingFor(model, i, dimensions).Select(v => (JsonNode)v)]))]),
            ["total_duration"] = 14143917,
            ["load_duration"] = 1019500,
            ["prompt_eval_count"] = reply.PromptTokens,
        };
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }
}
