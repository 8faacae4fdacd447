using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>A request the double received, as it arrived on the wire.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string? Tag,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    JsonNode? Json)
{
    public bool Stream => Json?["stream"]?.GetValue<bool>() == true;

    public bool IncludeUsage => Json?["stream_options"]?["include_usage"]?.GetValue<bool>() == true;

    public string? Model => Json?["model"]?.GetValue<string>();

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The text of the last user message (string content, or the concatenated text parts).</summary>
    public string LastUserText
    {
        get
        {
            if (Json?["messages"] is not JsonArray messages)
            {
                return string.Empty;
            }

            for (var i = messages.Count - 1; i >= 0; i--)
            {
                if (messages[i]?["role"]?.GetValue<string>() != "user")
                {
                    continue;
                }

                return messages[i]!["content"] switch
                {
                    JsonValue value when value.TryGetValue<string>(out var s) => s,
                    JsonArray parts => string.Concat(parts.Where(p => p?["type"]?.GetValue<string>() == "text").Select(p => p!["text"]!.GetValue<string>())),
                    _ => string.Empty,
                };
            }

            return string.Empty;
        }
    }
}

/// <summary>A tool call the double answers with.</summary>
public sealed record UpstreamToolCall(string Id, string Name, string ArgumentsJson);

/// <summary>How the double answers one request: an error (<see cref="Status"/> other than 200) or a completion.</summary>
public sealed record UpstreamReply
{
    public int Status { get; init; } = 200;
    /// <summary>For errors: the body, verbatim. For 200: overrides the generated completion body (non-streaming only).</summary>
    public string? Body { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>The answer's text; "echo: &lt;last user text&gt;" when null.</summary>
    public string? Text { get; init; }
    public IReadOnlyList<UpstreamToolCall> ToolCalls { get; init; } = [];
    /// <summary>stop, length, tool_calls, content_filter; derived from the tool calls when null.</summary>
    public string? FinishReason { get; init; }
    public int PromptTokens { get; init; } = 11;
    public int CompletionTokens { get; init; } = 7;
    /// <summary>Delay before the status line is sent (ends early when the client goes away).</summary>
    public int DelayMs { get; init; }
    /// <summary>Streaming only: drop the connection after this many SSE events, without <c>[DONE]</c>.</summary>
    public int? AbortAfterEvents { get; init; }
    /// <summary>
    /// With <see cref="AbortAfterEvents"/>: wait for this task before dropping the connection, so the client has
    /// read the events already sent (a reset can discard data the client has not read yet).
    /// </summary>
    public Task? AbortWhen { get; init; }
    /// <summary>Streaming only: after this many SSE events, wait for <see cref="HoldUntil"/>, then finish the stream normally.</summary>
    public int? HoldAfterEvents { get; init; }
    public Task? HoldUntil { get; init; }
    /// <summary>A broken 200 answer to play instead of the completion (see <see cref="UpstreamFault"/>).</summary>
    public UpstreamFault Fault { get; init; }
    /// <summary>For <see cref="UpstreamFault.HugeLine"/> and <see cref="UpstreamFault.Oversized"/>: how many bytes the answer runs to.</summary>
    public int FaultBytes { get; init; } = 256 * 1024;

    public static UpstreamReply RateLimited(int retryAfterSeconds) => new()
    {
        Status = 429,
        Headers = new Dictionary<string, string> { ["retry-after"] = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        Body = """{"error":{"message":"Rate limit reached for gpt-4o in organization org-test on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.","type":"requests","param":null,"code":"rate_limit_exceeded"}}""",
    };

    public static UpstreamReply ServerError() => new()
    {
        Status = 500,
        Body = """{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}""",
    };

    public static UpstreamReply InvalidApiKey(string presentedKey) => new()
    {
        Status = 401,
        // OpenAI echoes a masked form of the key it was given: the gateway must not pass this message on.
        Body = $$$"""{"error":{"message":"Incorrect API key provided: {{{presentedKey}}}. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""",
    };

    public static UpstreamReply BadRequest(string message, string? param) => new()
    {
        Status = 400,
        Body = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param, ["code"] = null },
        }.ToJsonString(),
    };

    public static UpstreamReply ContextLengthExceeded() => new()
    {
        Status = 400,
        Body = """{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""",
    };
}

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks OpenAI Chat Completions (JSON and SSE) as documented, for tests.
/// </summary>
/// <remarks>
/// Serves <c>POST /v1/chat/completions</c> and <c>POST /{tag}/v1/chat/completions</c>, so one double can stand in for
/// several upstreams (<see cref="BaseUrlFor"/>), and the Embeddings API beside them (<c>OpenAIUpstreamDouble.Embeddings.cs</c>). Answers come from <see cref="Behavior"/> when it returns a reply,
/// else from the knobs. Knobs and counters are thread-safe; set knobs before issuing requests.
/// </remarks>
public sealed partial class OpenAIUpstreamDouble : IAsyncDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };
    private static readonly object AbortAfterKey = new();
    private static readonly object AbortWhenKey = new();
    private static readonly object HoldAfterKey = new();
    private static readonly object HoldUntilKey = new();

    private LoopbackServer _server = null!;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _requestsByTag = new(StringComparer.Ordinal);
    private int _requestCount;
    private int _streamRequestCount;
    private readonly Dictionary<string, int> _inFlightByTag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _peakInFlightByTag = new(StringComparer.Ordinal);
    private long _completionCounter;

    private OpenAIUpstreamDouble()
    {
    }

    /// <summary>The root, e.g. <c>http://127.0.0.1:5123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The OpenAI base URL to configure: <c>http://127.0.0.1:PORT/v1</c>.</summary>
    public string BaseUrl => $"{BaseAddress}v1";

    public int Port => BaseAddress.Port;

    /// <summary>Decides the reply for a request; a null result falls through to the knobs.</summary>
    public Func<RecordedRequest, UpstreamReply?>? Behavior { get; set; }

    /// <summary>When set, every request fails with this status (and <see cref="FailureBody"/> or a standard OpenAI error body).</summary>
    public int? FailWithStatus { get; set; }
    public string? FailureBody { get; set; }
    /// <summary>The <c>retry-after</c> header sent with a failure, when set.</summary>
    public string? RetryAfter { get; set; }
    public int DelayMs { get; set; }
    /// <summary>The answer's text; "echo: &lt;last user text&gt;" when null.</summary>
    public string? ReplyText { get; set; }
    public IReadOnlyList<UpstreamToolCall> ToolCalls { get; set; } = [];
    public int PromptTokens { get; set; } = 11;
    public int CompletionTokens { get; set; } = 7;
    public string SystemFingerprint { get; set; } = "fp_double01";

    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>The most requests the upstream named <paramref name="tag"/> was answering at once.</summary>
    public int PeakInFlightFor(string tag)
    {
        lock (_inFlightByTag)
        {
            return _peakInFlightByTag.GetValueOrDefault(tag);
        }
    }

    public int StreamRequestCount => Volatile.Read(ref _streamRequestCount);

    /// <summary>Requests in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public RecordedRequest LastRequest => _requests.LastOrDefault() ?? throw new InvalidOperationException("the upstream double received no request");

    public static async Task<OpenAIUpstreamDouble> StartAsync(CancellationToken cancellationToken = default)
    {
        var upstream = new OpenAIUpstreamDouble();
        upstream._server = await LoopbackServer.StartAsync(upstream.HandleAsync, cancellationToken).ConfigureAwait(false);
        upstream.BaseAddress = upstream._server.BaseAddress;
        return upstream;
    }

    /// <summary>The base URL of the upstream named <paramref name="tag"/>: <c>http://127.0.0.1:PORT/{tag}/v1</c>.</summary>
    public string BaseUrlFor(string tag) => $"{BaseAddress}{tag}/v1";

    public int RequestCountFor(string tag) => _requestsByTag.TryGetValue(tag, out var count) ? count : 0;

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        var tag = path.IndexOf("/v1/", StringComparison.Ordinal) is > 0 and var end ? path[..end].Trim('/') : "";
        lock (_inFlightByTag)
        {
            var count = _inFlightByTag.GetValueOrDefault(tag) + 1;
            _inFlightByTag[tag] = count;
            _peakInFlightByTag[tag] = Math.Max(count, _peakInFlightByTag.GetValueOrDefault(tag));
        }

        try
        {
            await HandleRequestAsync(context).ConfigureAwait(false);
        }
        finally
        {
            lock (_inFlightByTag)
            {
                _inFlightByTag[tag]--;
            }
        }
    }

    private async Task HandleRequestAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (HttpMethods.IsPost(context.Request.Method) && path.EndsWith(EmbeddingsEndpoint, StringComparison.Ordinal))
        {
            await HandleEmbeddingsAsync(context, path).ConfigureAwait(false);
            return;
        }

        const string endpoint = "/v1/chat/completions";
        if (!HttpMethods.IsPost(context.Request.Method) || !path.EndsWith(endpoint, StringComparison.Ordinal))
        {
            await WriteErrorAsync(context, 404, $$$"""{"error":{"message":"Invalid URL ({{{context.Request.Method}}} {{{path}}})","type":"invalid_request_error","param":null,"code":null}}""", null).ConfigureAwait(false);
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
        if (request.Stream)
        {
            Interlocked.Increment(ref _streamRequestCount);
        }

        if (tag is not null)
        {
            _requestsByTag.AddOrUpdate(tag, 1, (_, count) => count + 1);
        }

        if (json is null)
        {
            await WriteErrorAsync(context, 400, """{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}""", null).ConfigureAwait(false);
            return;
        }

        var reply = Behavior?.Invoke(request) ?? ReplyFromKnobs();
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

        var id = $"chatcmpl-double{Interlocked.Increment(ref _completionCounter):D6}";
        var created = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var model = request.Model ?? "unknown";
        var text = reply.ToolCalls.Count > 0 && reply.Text is null ? null : reply.Text ?? $"echo: {request.LastUserText}";
        var finish = reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_calls" : "stop");
        try
        {
            if (reply.Fault != UpstreamFault.None)
            {
                await UpstreamFaults.WriteAsync(context, reply, request.Stream, FaultWire(id, created, model)).ConfigureAwait(false);
            }
            else if (request.Stream)
            {
                await WriteStreamAsync(context, request, reply, id, created, model, text, finish).ConfigureAwait(false);
            }
            else
            {
                await WriteCompletionAsync(context, reply, id, created, model, text, finish).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer; nothing left to do.
        }
    }

    /// <summary>OpenAI's wire, for <see cref="UpstreamFaults"/>.</summary>
    private FaultWire FaultWire(string id, long created, string model)
    {
        string Chunk(JsonObject delta) => "data: " + new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["system_fingerprint"] = SystemFingerprint,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = null }),
        }.ToJsonString() + "\n\n";

        return new FaultWire(
            "text/event-stream; charset=utf-8",
            Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }),
            text => Chunk(new JsonObject { ["content"] = text }),
            text => new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = PromptTokens, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens },
            }.ToJsonString(),
            UpstreamReply.ServerError().Body!,
            message => UpstreamReply.BadRequest(message, null).Body!,
            envelope => $"data: {envelope}\n\n");
    }

    private UpstreamReply ReplyFromKnobs()
    {
        var headers = new Dictionary<string, string>();
        if (RetryAfter is { } retryAfter)
        {
            headers["retry-after"] = retryAfter;
        }

        return new UpstreamReply
        {
            Status = FailWithStatus ?? 200,
            Body = FailWithStatus is null ? null : FailureBody,
            Headers = headers,
            Text = ReplyText,
            ToolCalls = ToolCalls,
            PromptTokens = PromptTokens,
            CompletionTokens = CompletionTokens,
            DelayMs = DelayMs,
        };
    }

    private static string StandardErrorBody(int status) => status switch
    {
        400 => UpstreamReply.BadRequest("Invalid request.", null).Body!,
        401 => UpstreamReply.InvalidApiKey("sk-****").Body!,
        429 => UpstreamReply.RateLimited(1).Body!,
        404 => """{"error":{"message":"The model `unknown` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}""",
        503 => """{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}""",
        _ => UpstreamReply.ServerError().Body!,
    };

    private static async Task WriteErrorAsync(HttpContext context, int status, string body, IReadOnlyDictionary<string, string>? headers)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }
        }

        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WriteCompletionAsync(HttpContext context, UpstreamReply reply, string id, long created, string model, string? text, string finish)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        if (reply.Body is { } verbatim)
        {
            await context.Response.WriteAsync(verbatim, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", created);
            w.WriteString("model", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            WriteNullableString(w, "content", text);
            if (reply.ToolCalls.Count > 0)
            {
                w.WriteStartArray("tool_calls");
                foreach (var call in reply.ToolCalls)
                {
                    w.WriteStartObject();
                    w.WriteString("id", call.Id);
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", call.Name);
                    w.WriteString("arguments", call.ArgumentsJson);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteNull("refusal");
            w.WriteStartArray("annotations");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteString("finish_reason", finish);
            w.WriteEndObject();
            w.WriteEndArray();
            WriteUsage(w, reply);
            w.WriteString("service_tier", "default");
            w.WriteString("system_fingerprint", SystemFingerprint);
            w.WriteEndObject();
        }

        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WriteStreamAsync(HttpContext context, RecordedRequest request, UpstreamReply reply, string id, long created, string model, string? text, string finish)
    {
        if (reply.AbortAfterEvents is { } abortAfter)
        {
            context.Items[AbortAfterKey] = abortAfter;
            context.Items[AbortWhenKey] = reply.AbortWhen;
        }

        if (reply is { HoldAfterEvents: { } holdAfter, HoldUntil: { } holdUntil })
        {
            context.Items[HoldAfterKey] = holdAfter;
            context.Items[HoldUntilKey] = holdUntil;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        var includeUsage = request.IncludeUsage;

        // First chunk: the role, with empty content (or the first fragment of each tool call), as OpenAI sends it.
        await WriteChunkAsync(context, id, created, model, includeUsage, w =>
        {
            w.WriteString("role", "assistant");
            if (reply.ToolCalls.Count > 0 && text is null)
            {
                w.WriteNull("content");
                WriteToolCallHeads(w, reply.ToolCalls);
            }
            else
            {
                w.WriteString("content", string.Empty);
            }

            w.WriteNull("refusal");
        }, finishReason: null).ConfigureAwait(false);

        if (text is not null)
        {
            foreach (var piece in SplitForStreaming(text))
            {
                await WriteChunkAsync(context, id, created, model, includeUsage, w => w.WriteString("content", piece), null).ConfigureAwait(false);
            }

            if (reply.ToolCalls.Count > 0)
            {
                await WriteChunkAsync(context, id, created, model, includeUsage, w => WriteToolCallHeads(w, reply.ToolCalls), null).ConfigureAwait(false);
            }
        }

        for (var i = 0; i < reply.ToolCalls.Count; i++)
        {
            var index = i;
            foreach (var piece in SplitForStreaming(reply.ToolCalls[i].ArgumentsJson))
            {
                await WriteChunkAsync(context, id, created, model, includeUsage, w =>
                {
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteNumber("index", index);
                    w.WriteStartObject("function");
                    w.WriteString("arguments", piece);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                }, null).ConfigureAwait(false);
            }
        }

        await WriteChunkAsync(context, id, created, model, includeUsage, _ => { }, finish).ConfigureAwait(false);

        if (includeUsage)
        {
            await WriteEventAsync(context, w =>
            {
                w.WriteStartObject();
                WriteChunkHeader(w, id, created, model);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, reply);
                w.WriteEndObject();
            }).ConfigureAwait(false);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
    }

    private Task WriteChunkAsync(HttpContext context, string id, long created, string model, bool includeUsage, Action<Utf8JsonWriter> writeDelta, string? finishReason) =>
        WriteEventAsync(context, w =>
        {
            w.WriteStartObject();
            WriteChunkHeader(w, id, created, model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            writeDelta(w);
            w.WriteEndObject();
            w.WriteNull("logprobs");
            WriteNullableString(w, "finish_reason", finishReason);
            w.WriteEndObject();
            w.WriteEndArray();
            if (includeUsage)
            {
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        });

    private void WriteChunkHeader(Utf8JsonWriter w, string id, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteString("service_tier", "default");
        w.WriteString("system_fingerprint", SystemFingerprint);
    }

    private static async Task WriteEventAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        if (context.Items[AbortAfterKey] is int remaining)
        {
            if (remaining == 0)
            {
                if (context.Items[AbortWhenKey] is Task abortWhen)
                {
                    await abortWhen.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                }

                context.Abort();
                throw new OperationCanceledException("the double dropped the connection on purpose", context.RequestAborted);
            }

            context.Items[AbortAfterKey] = remaining - 1;
        }

        if (context.Items[HoldAfterKey] is int beforeHold)
        {
            if (beforeHold == 0 && context.Items[HoldUntilKey] is Task holdUntil)
            {
                await holdUntil.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }

            context.Items[HoldAfterKey] = beforeHold - 1;
        }

        using var buffer = new MemoryStream();
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(w);
        }

        buffer.Write("\n\n"u8);
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteToolCallHeads(Utf8JsonWriter w, IReadOnlyList<UpstreamToolCall> calls)
    {
        w.WriteStartArray("tool_calls");
        for (var i = 0; i < calls.Count; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("index", i);
            w.WriteString("id", calls[i].Id);
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", calls[i].Name);
            w.WriteString("arguments", string.Empty);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter w, UpstreamReply reply)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", reply.PromptTokens);
        w.WriteNumber("completion_tokens", reply.CompletionTokens);
        w.WriteNumber("total_tokens", reply.PromptTokens + reply.CompletionTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", 0);
        w.WriteNumber("audio_tokens", 0);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", 0);
        w.WriteNumber("audio_tokens", 0);
        w.WriteNumber("accepted_prediction_tokens", 0);
        w.WriteNumber("rejected_prediction_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteNullableString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    /// <summary>Splits into pieces of up to 4 characters, so a client has to concatenate several deltas.</summary>
    private static IEnumerable<string> SplitForStreaming(string text)
    {
        for (var i = 0; i < text.Length; i += 4)
        {
            yield return text.Substring(i, Math.Min(4, text.Length - i));
        }
    }
}
