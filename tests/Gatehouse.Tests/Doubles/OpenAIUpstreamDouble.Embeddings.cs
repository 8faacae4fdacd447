using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>
/// The double's OpenAI Embeddings API: <c>POST /v1/embeddings</c> (and <c>/{tag}/v1/embeddings</c>), answering
/// <see cref="EmbeddingFor"/> vectors as floats or base64 per <c>encoding_format</c>, cut to <c>dimensions</c>.
/// </summary>
/// <remarks>
/// Replies come from <see cref="EmbeddingBehavior"/> when it returns one, else from the same failure knobs as chat
/// (<see cref="FailWithStatus"/>, <see cref="FailureBody"/>, <see cref="RetryAfter"/>, <see cref="DelayMs"/>) with
/// <see cref="PromptTokens"/> as the usage. Embedding requests are recorded and counted apart from chat's.
/// </remarks>
public sealed partial class OpenAIUpstreamDouble
{
    private const string EmbeddingsEndpoint = "/v1/embeddings";

    private readonly ConcurrentQueue<RecordedRequest> _embeddingRequests = new();
    private int _embeddingRequestCount;

    /// <summary>Decides the reply to an embeddings request; a null result falls through to the knobs.</summary>
    public Func<RecordedRequest, UpstreamReply?>? EmbeddingBehavior { get; set; }

    /// <summary>The length of a vector when the request names no <c>dimensions</c>. The default value is 8.</summary>
    public int DefaultEmbeddingDimensions { get; set; } = 8;

    /// <summary>Answer the <c>data</c> items last input first (each with its right <c>index</c>), as the API allows.</summary>
    public bool EmbeddingsOutOfOrder { get; set; }

    public int EmbeddingRequestCount => Volatile.Read(ref _embeddingRequestCount);

    /// <summary>Embedding requests in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> EmbeddingRequests => _embeddingRequests.ToArray();

    /// <summary>The vector the double answers for an input: SHA-256 of model and input, expanded, not normalised.</summary>
    public static float[] EmbeddingFor(string model, string input, int dimensions)
    {
        var vector = new float[dimensions];
        var block = Array.Empty<byte>();
        for (var i = 0; i < dimensions; i++)
        {
            if (i % 8 == 0)
            {
                block = SHA256.HashData(Encoding.UTF8.GetBytes($"{model}\n{input}\n{i / 8}"));
            }

            // Values like -0.4731 and 0.0625: a decimal round trip of either encoding must give these exact floats back.
            vector[i] = BinaryPrimitives.ReadInt32LittleEndian(block.AsSpan(i % 8 * 4)) / (float)int.MaxValue;
        }

        return vector;
    }

    /// <summary>The little-endian float32 bytes of a vector, base64-encoded, as OpenAI sends them.</summary>
    public static string ToBase64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private async Task HandleEmbeddingsAsync(HttpContext context, string path)
    {
        var prefix = path[..^EmbeddingsEndpoint.Length].Trim('/');
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            json = null;
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new RecordedRequest(context.Request.Method, path, prefix.Length == 0 ? null : prefix, headers, body, json);
        _embeddingRequests.Enqueue(request);
        Interlocked.Increment(ref _embeddingRequestCount);

        var inputs = json?["input"] switch
        {
            JsonArray array => array.Select(i => i?.GetValue<string>() ?? string.Empty).ToList(),
            JsonValue value when value.TryGetValue<string>(out var single) => [single],
            _ => null,
        };
        if (inputs is null or { Count: 0 })
        {
            await WriteErrorAsync(context, 400, UpstreamReply.BadRequest("'input' is a required property", "input").Body!, null).ConfigureAwait(false);
            return;
        }

        var reply = EmbeddingBehavior?.Invoke(request) ?? ReplyFromKnobs();
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
            await WriteErrorAsync(context, reply.Status, reply.Body ?? StandardErrorBody(reply.Status), reply.Headers).ConfigureAwait(false);
            return;
        }

        var model = request.Model ?? "unknown";
        try
        {
            if (reply.Fault != UpstreamFault.None)
            {
                await UpstreamFaults.WriteAsync(context, reply, stream: false, EmbeddingFaultWire()).ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            var answer = reply.Body ?? EmbeddingsAnswer(
                model,
                inputs,
                json!["dimensions"]?.GetValue<int>() ?? DefaultEmbeddingDimensions,
                json["encoding_format"]?.GetValue<string>() == "base64",
                reply.PromptTokens);
            await context.Response.WriteAsync(answer, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer.
        }
    }

    private string EmbeddingsAnswer(string model, List<string> inputs, int dimensions, bool base64, int promptTokens)
    {
        var order = Enumerable.Range(0, inputs.Count);
        if (EmbeddingsOutOfOrder)
        {
            order = order.Reverse();
        }

        var data = new JsonArray();
        foreach (var i in order)
        {
            var vector = EmbeddingFor(model, inputs[i], dimensions);
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = base64 ? ToBase64(vector) : new JsonArray([.. vector.Select(v => (JsonNode)v)]),
            });
        }

        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = promptTokens, ["total_tokens"] = promptTokens },
        }.ToJsonString();
    }

    /// <summary>Embeddings' wire for <see cref="UpstreamFaults"/>: the "text" an answer carries is its model name.</summary>
    private static FaultWire EmbeddingFaultWire() => new(
        "application/json",
        string.Empty,
        text => text,
        text => new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject { ["object"] = "embedding", ["index"] = 0, ["embedding"] = new JsonArray(0.5f, -0.25f) }),
            ["model"] = text,
            ["usage"] = new JsonObject { ["prompt_tokens"] = 1, ["total_tokens"] = 1 },
        }.ToJsonString(),
        UpstreamReply.ServerError().Body!,
        message => UpstreamReply.BadRequest(message, null).Body!,
        envelope => envelope);
}
