using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>
/// The double's embeddings, as the Gemini API documents them: <c>POST /v1beta/models/{model}:embedContent</c>
/// (<c>{"content":{"parts":[{"text"}]},"outputDimensionality"?}</c> → <c>{"embedding":{"values":[…]}}</c>) and
/// <c>POST …:batchEmbedContents</c> (<c>{"requests":[{"model":"models/{model}","content":…},…]}</c> →
/// <c>{"embeddings":[{"values":[…]},…]}</c>), with the <see cref="OpenAIUpstreamDouble.EmbeddingFor"/> vectors of the
/// path's model and each content's text, cut to <c>outputDimensionality</c>.
/// </summary>
/// <remarks>
/// The key is checked as for chat. Replies come from <see cref="EmbedBehavior"/> when it returns one, with the same
/// knobs as chat (<see cref="UpstreamReply.Status"/> and <see cref="UpstreamReply.Body"/> for errors, a verbatim 200
/// <see cref="UpstreamReply.Body"/>, <see cref="UpstreamReply.DelayMs"/>, <see cref="UpstreamReply.Fault"/>), else a
/// success. Like the Gemini API the answers carry no usage, unless <see cref="EmbedUsageTokens"/> is set.
/// </remarks>
public sealed partial class GeminiUpstreamDouble
{
    private readonly ConcurrentQueue<RecordedRequest> _embedRequests = new();
    private int _embedRequestCount;

    /// <summary>Decides the reply to an embed request; a null result is a success.</summary>
    public Func<RecordedRequest, UpstreamReply?>? EmbedBehavior { get; set; }

    /// <summary>The length of a vector when the request names no <c>outputDimensionality</c>. The default value is 8.</summary>
    public int DefaultEmbeddingDimensions { get; set; } = 8;

    /// <summary>When set, answers carry <c>usageMetadata.promptTokenCount</c> with this count (the Gemini API sends none).</summary>
    public int? EmbedUsageTokens { get; set; }

    /// <summary>Embed requests in arrival order, apart from <see cref="Requests"/>.</summary>
    public IReadOnlyList<RecordedRequest> EmbedRequests => _embedRequests.ToArray();

    public int EmbedRequestCount => Volatile.Read(ref _embedRequestCount);

    public RecordedRequest LastEmbedRequest => _embedRequests.LastOrDefault() ?? throw new InvalidOperationException("the upstream double received no embed request");

    public static bool IsBatchEmbed(RecordedRequest request) => request.Path.EndsWith(":batchEmbedContents", StringComparison.Ordinal);

    /// <summary>The vector the double answers for a text: <see cref="OpenAIUpstreamDouble.EmbeddingFor"/> of the bare model name.</summary>
    public static float[] EmbeddingFor(string model, string text, int dimensions) => OpenAIUpstreamDouble.EmbeddingFor(model, text, dimensions);

    private static bool IsEmbedPath(string path) =>
        path.EndsWith(":embedContent", StringComparison.Ordinal) || path.EndsWith(":batchEmbedContents", StringComparison.Ordinal);

    private void RecordEmbedRequest(RecordedRequest request)
    {
        _embedRequests.Enqueue(request);
        Interlocked.Increment(ref _embedRequestCount);
    }

    private async Task HandleEmbedAsync(HttpContext context, RecordedRequest request)
    {
        var model = ModelOf(request) ?? "unknown";
        var items = IsBatchEmbed(request) ? (request.Json!["requests"] as JsonArray)?.ToList() : [request.Json];
        if (items is null or { Count: 0 })
        {
            await WriteErrorAsync(context, GeminiReplies.InvalidArgument("* BatchEmbedContentsRequest.requests: at least one request is required")).ConfigureAwait(false);
            return;
        }

        var embedded = new List<(string Text, int Dimensions)>();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (IsBatchEmbed(request) && item?["model"]?.GetValue<string>() != "models/" + model)
            {
                // Google's answer to a batch whose requests name another model than the URL.
                await WriteErrorAsync(context, GeminiReplies.InvalidArgument(
                    $"* BatchEmbedContentsRequest.requests[{i}].model: Model name in the request must match the model in the URL.")).ConfigureAwait(false);
                return;
            }

            if (item?["content"]?["parts"] is not JsonArray { Count: > 0 } parts || parts.Any(p => p?["text"] is null))
            {
                await WriteErrorAsync(context, GeminiReplies.InvalidArgument("* EmbedContentRequest.content: contents must have text parts")).ConfigureAwait(false);
                return;
            }

            embedded.Add((string.Concat(parts.Select(p => p!["text"]!.GetValue<string>())),
                item["outputDimensionality"]?.GetValue<int>() ?? DefaultEmbeddingDimensions));
        }

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

        if (reply.Status != 200)
        {
            await WriteErrorAsync(context, reply).ConfigureAwait(false);
            return;
        }

        try
        {
            if (reply.Fault != UpstreamFault.None)
            {
                await UpstreamFaults.WriteAsync(context, reply, stream: false, EmbedFaultWire()).ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json; charset=UTF-8";
            var vectors = embedded.Select(e => Values(EmbeddingFor(model, e.Text, e.Dimensions))).ToList();
            var answer = IsBatchEmbed(request)
                ? new JsonObject { ["embeddings"] = new JsonArray([.. vectors]) }
                : new JsonObject { ["embedding"] = vectors[0] };
            if (EmbedUsageTokens is { } tokens)
            {
                answer["usageMetadata"] = new JsonObject { ["promptTokenCount"] = tokens, ["totalTokenCount"] = tokens };
            }

            await context.Response.WriteAsync(reply.Body ?? answer.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer.
        }
    }

    private static JsonObject Values(float[] vector) => new() { ["values"] = new JsonArray([.. vector.Select(v => (JsonNode)v)]) };

    /// <summary>Embeddings' wire for <see cref="UpstreamFaults"/>: the "text" an answer carries is filler beside one short vector.</summary>
    private static FaultWire EmbedFaultWire() => new(
        "application/json",
        string.Empty,
        text => text,
        text => new JsonObject { ["embedding"] = new JsonObject { ["values"] = new JsonArray(0.5f, -0.25f) }, ["note"] = text }.ToJsonString(),
        GeminiReplies.Internal().Body!,
        message => GeminiReplies.InvalidArgument(message).Body!,
        envelope => envelope);
}
