using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>Anthropic's documented error replies, for <see cref="AnthropicUpstreamDouble"/>.</summary>
public static class AnthropicReplies
{
    public static UpstreamReply Error(int status, string type, string message, IReadOnlyDictionary<string, string>? headers = null) => new()
    {
        Status = status,
        Headers = headers ?? new Dictionary<string, string>(),
        Body = new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
        }.ToJsonString(),
    };

    public static UpstreamReply RateLimited(int retryAfterSeconds) => Error(
        429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
        new Dictionary<string, string> { ["retry-after"] = retryAfterSeconds.ToString(CultureInfo.InvariantCulture) });

    public static UpstreamReply Overloaded() => Error(529, "overloaded_error", "Overloaded");

    public static UpstreamReply ServerError() => Error(500, "api_error", "Internal server error");

    /// <summary>Anthropic does not echo the key, but the gateway must not pass an auth message on regardless.</summary>
    public static UpstreamReply InvalidApiKey() => Error(401, "authentication_error", "invalid x-api-key");

    public static UpstreamReply BadRequest(string message) => Error(400, "invalid_request_error", message);

    public static UpstreamReply PromptTooLong() => Error(400, "invalid_request_error", "prompt is too long: 210412 tokens > 200000 maximum");
}

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks Anthropic's Messages API (JSON and SSE) as documented, for tests.
/// </summary>
/// <remarks>
/// Serves <c>POST /v1/messages</c> and <c>POST /{tag}/v1/messages</c>, so one double can stand in for several upstreams
/// (<see cref="BaseUrlFor"/>). Answers come from <see cref="Behavior"/> when it returns a reply, else from the knobs.
/// <see cref="UpstreamReply.FinishReason"/> is Anthropic's <c>stop_reason</c> here. Knobs and counters are thread-safe;
/// set knobs before issuing requests.
/// </remarks>
public sealed class AnthropicUpstreamDouble : IAsyncDisposable
{
    private static readonly object AbortAfterKey = new();

    private LoopbackServer _server = null!;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _requestsByTag = new(StringComparer.Ordinal);
    private int _requestCount;
    private long _messageCounter;

    private AnthropicUpstreamDouble()
    {
    }

    /// <summary>The root, e.g. <c>http://127.0.0.1:5123/</c>; also the Anthropic base URL (the SDK appends <c>/v1/messages</c>).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The base URL to configure: <c>http://127.0.0.1:PORT</c>.</summary>
    public string BaseUrl => BaseAddress.ToString().TrimEnd('/');

    /// <summary>Decides the reply for a request; a null result falls through to the knobs.</summary>
    public Func<RecordedRequest, UpstreamReply?>? Behavior { get; set; }

    /// <summary>The answer's text; "echo: &lt;last user text&gt;" when null.</summary>
    public string? ReplyText { get; set; }
    public IReadOnlyList<UpstreamToolCall> ToolCalls { get; set; } = [];
    public int InputTokens { get; set; } = 13;
    public int OutputTokens { get; set; } = 5;
    public int CacheReadInputTokens { get; set; }
    public int CacheCreationInputTokens { get; set; }

    public int RequestCount => Volatile.Read(ref _requestCount);

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public RecordedRequest LastRequest => _requests.LastOrDefault() ?? throw new InvalidOperationException("the upstream double received no request");

    public static async Task<AnthropicUpstreamDouble> StartAsync(CancellationToken cancellationToken = default)
    {
        var upstream = new AnthropicUpstreamDouble();
        upstream._server = await LoopbackServer.StartAsync(upstream.HandleAsync, cancellationToken).ConfigureAwait(false);
        upstream.BaseAddress = upstream._server.BaseAddress;
        return upstream;
    }

    /// <summary>The base URL of the upstream named <paramref name="tag"/>: <c>http://127.0.0.1:PORT/{tag}</c>.</summary>
    public string BaseUrlFor(string tag) => $"{BaseAddress}{tag}";

    public int RequestCountFor(string tag) => _requestsByTag.TryGetValue(tag, out var count) ? count : 0;

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        const string endpoint = "/v1/messages";
        if (!HttpMethods.IsPost(context.Request.Method) || !path.EndsWith(endpoint, StringComparison.Ordinal))
        {
            await WriteReplyAsync(context, AnthropicReplies.Error(404, "not_found_error", "Not Found")).ConfigureAwait(false);
            return;
        }

        var prefix = path[..^endpoint.Length].Trim('/');
        var tag = prefix.Length == 0 ? null : prefix;
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
        var request = new RecordedRequest(context.Request.Method, path, tag, headers, body, json);
        _requests.Enqueue(request);
        Interlocked.Increment(ref _requestCount);
        if (tag is not null)
        {
            _requestsByTag.AddOrUpdate(tag, 1, (_, count) => count + 1);
        }

        if (json is null)
        {
            await WriteReplyAsync(context, AnthropicReplies.BadRequest("There was an issue with the JSON body of your request.")).ConfigureAwait(false);
            return;
        }

        var reply = Behavior?.Invoke(request) ?? new UpstreamReply
        {
            Text = ReplyText,
            ToolCalls = ToolCalls,
            PromptTokens = InputTokens,
            CompletionTokens = OutputTokens,
        };

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
            await WriteReplyAsync(context, reply).ConfigureAwait(false);
            return;
        }

        var id = $"msg_01Double{Interlocked.Increment(ref _messageCounter):D12}";
        var model = request.Model ?? "unknown";
        var text = reply.ToolCalls.Count > 0 && reply.Text is null ? null : reply.Text ?? $"echo: {request.LastUserText}";
        var stopReason = reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_use" : "end_turn");
        try
        {
            if (reply.Fault != UpstreamFault.None)
            {
                await UpstreamFaults.WriteAsync(context, reply, request.Stream, FaultWire(id, model)).ConfigureAwait(false);
            }
            else if (request.Stream)
            {
                await WriteStreamAsync(context, reply, id, model, text, stopReason).ConfigureAwait(false);
            }
            else
            {
                await WriteMessageAsync(context, reply, id, model, text, stopReason).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer.
        }
        catch (StreamEndedException)
        {
            // The error event was the last one; the response ends cleanly, as Anthropic's does.
        }
    }

    /// <summary>Anthropic's wire, for <see cref="UpstreamFaults"/>.</summary>
    private FaultWire FaultWire(string id, string model)
    {
        static string Event(string name, JsonObject data) => $"event: {name}\ndata: {data.ToJsonString()}\n\n";
        JsonObject Usage(int output) => new()
        {
            ["input_tokens"] = InputTokens,
            ["cache_creation_input_tokens"] = CacheCreationInputTokens,
            ["cache_read_input_tokens"] = CacheReadInputTokens,
            ["output_tokens"] = output,
        };

        return new FaultWire(
            "text/event-stream; charset=utf-8",
            Event("message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                    ["stop_reason"] = null, ["stop_sequence"] = null, ["usage"] = Usage(1),
                },
            }) + Event("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
            }),
            text => Event("content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text },
            }),
            text => new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model,
                ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
                ["stop_reason"] = "end_turn", ["stop_sequence"] = null, ["usage"] = Usage(OutputTokens),
            }.ToJsonString(),
            AnthropicReplies.Overloaded().Body!,
            message => AnthropicReplies.BadRequest(message).Body!,
            envelope => $"event: error\ndata: {envelope}\n\n");
    }

    private static async Task WriteReplyAsync(HttpContext context, UpstreamReply reply)
    {
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(reply.Body ?? AnthropicReplies.Error(reply.Status, "api_error", "error").Body!, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WriteMessageAsync(HttpContext context, UpstreamReply reply, string id, string model, string? text, string stopReason)
    {
        if (reply.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.Body, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", model);
            w.WriteStartArray("content");
            if (text is not null)
            {
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", text);
                w.WriteEndObject();
            }

            foreach (var call in reply.ToolCalls)
            {
                w.WriteStartObject();
                w.WriteString("type", "tool_use");
                w.WriteString("id", call.Id);
                w.WriteString("name", call.Name);
                w.WritePropertyName("input");
                using (var input = JsonDocument.Parse(call.ArgumentsJson))
                {
                    input.RootElement.WriteTo(w);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("stop_reason", stopReason);
            w.WriteNull("stop_sequence");
            WriteUsage(w, reply.PromptTokens, reply.CompletionTokens);
            w.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WriteStreamAsync(HttpContext context, UpstreamReply reply, string id, string model, string? text, string stopReason)
    {
        if (reply.AbortAfterEvents is { } abortAfter)
        {
            context.Items[AbortAfterKey] = abortAfter;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);

        await EventAsync(context, "message_start", w =>
        {
            w.WriteString("type", "message_start");
            w.WriteStartObject("message");
            w.WriteString("id", id);
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", model);
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteNull("stop_reason");
            w.WriteNull("stop_sequence");
            WriteUsage(w, reply.PromptTokens, 1);
            w.WriteEndObject();
        }).ConfigureAwait(false);
        await EventAsync(context, "ping", w => w.WriteString("type", "ping")).ConfigureAwait(false);

        var index = 0;
        if (text is not null)
        {
            await EventAsync(context, "content_block_start", w =>
            {
                w.WriteString("type", "content_block_start");
                w.WriteNumber("index", index);
                w.WriteStartObject("content_block");
                w.WriteString("type", "text");
                w.WriteString("text", "");
                w.WriteEndObject();
            }).ConfigureAwait(false);
            foreach (var piece in Split(text))
            {
                await EventAsync(context, "content_block_delta", w =>
                {
                    w.WriteString("type", "content_block_delta");
                    w.WriteNumber("index", index);
                    w.WriteStartObject("delta");
                    w.WriteString("type", "text_delta");
                    w.WriteString("text", piece);
                    w.WriteEndObject();
                }).ConfigureAwait(false);
            }

            await StopBlockAsync(context, index++).ConfigureAwait(false);
        }

        foreach (var call in reply.ToolCalls)
        {
            var blockIndex = index;
            await EventAsync(context, "content_block_start", w =>
            {
                w.WriteString("type", "content_block_start");
                w.WriteNumber("index", blockIndex);
                w.WriteStartObject("content_block");
                w.WriteString("type", "tool_use");
                w.WriteString("id", call.Id);
                w.WriteString("name", call.Name);
                w.WriteStartObject("input");
                w.WriteEndObject();
                w.WriteEndObject();
            }).ConfigureAwait(false);
            foreach (var piece in Split(call.ArgumentsJson))
            {
                await EventAsync(context, "content_block_delta", w =>
                {
                    w.WriteString("type", "content_block_delta");
                    w.WriteNumber("index", blockIndex);
                    w.WriteStartObject("delta");
                    w.WriteString("type", "input_json_delta");
                    w.WriteString("partial_json", piece);
                    w.WriteEndObject();
                }).ConfigureAwait(false);
            }

            await StopBlockAsync(context, index++).ConfigureAwait(false);
        }

        await EventAsync(context, "message_delta", w =>
        {
            w.WriteString("type", "message_delta");
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", stopReason);
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            w.WriteStartObject("usage");
            w.WriteNumber("output_tokens", reply.CompletionTokens);
            w.WriteEndObject();
        }).ConfigureAwait(false);
        await EventAsync(context, "message_stop", w => w.WriteString("type", "message_stop")).ConfigureAwait(false);
    }

    private void WriteUsage(Utf8JsonWriter w, int inputTokens, int outputTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", inputTokens);
        w.WriteNumber("cache_creation_input_tokens", CacheCreationInputTokens);
        w.WriteNumber("cache_read_input_tokens", CacheReadInputTokens);
        w.WriteNumber("output_tokens", outputTokens);
        w.WriteEndObject();
    }

    private static Task StopBlockAsync(HttpContext context, int index) => EventAsync(context, "content_block_stop", w =>
    {
        w.WriteString("type", "content_block_stop");
        w.WriteNumber("index", index);
    });

    private static async Task EventAsync(HttpContext context, string name, Action<Utf8JsonWriter> writeFields)
    {
        if (context.Items[AbortAfterKey] is int remaining)
        {
            if (remaining == 0)
            {
                // Anthropic reports a failure inside a started stream as an error event, then closes the stream.
                var error = """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""";
                await context.Response.WriteAsync($"event: error\ndata: {error}\n\n", context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                throw new StreamEndedException();
            }

            context.Items[AbortAfterKey] = remaining - 1;
        }

        using var buffer = new MemoryStream();
        buffer.Write(Encoding.UTF8.GetBytes($"event: {name}\ndata: "));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            writeFields(w);
            w.WriteEndObject();
        }

        buffer.Write("\n\n"u8);
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static IEnumerable<string> Split(string text)
    {
        for (var i = 0; i < text.Length; i += 4)
        {
            yield return text.Substring(i, Math.Min(4, text.Length - i));
        }
    }

    private sealed class StreamEndedException : Exception;
}
