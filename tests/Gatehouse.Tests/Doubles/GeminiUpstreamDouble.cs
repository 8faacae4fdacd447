using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>Google's error envelopes and the Gemini-only answers, for <see cref="GeminiUpstreamDouble"/>.</summary>
public static class GeminiReplies
{
    /// <summary>The <see cref="UpstreamReply.FinishReason"/> prefix that makes the double block the prompt: <c>promptFeedback.blockReason</c>, no candidates.</summary>
    public const string PromptBlockedPrefix = "PROMPT_BLOCKED:";

    public static string Envelope(int code, string status, string message, JsonArray? details = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status };
        if (details is not null)
        {
            error["details"] = details;
        }

        return new JsonObject { ["error"] = error }.ToJsonString();
    }

    public static UpstreamReply Error(int code, string status, string message, JsonArray? details = null) =>
        new() { Status = code, Body = Envelope(code, status, message, details) };

    /// <summary>429 RESOURCE_EXHAUSTED with a <c>RetryInfo</c> detail and no <c>retry-after</c> header, as Google answers.</summary>
    public static UpstreamReply ResourceExhausted(string retryDelay) => Error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        new JsonArray(
            new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.QuotaFailure", ["violations"] = new JsonArray() },
            new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.RetryInfo", ["retryDelay"] = retryDelay }));

    public static UpstreamReply InvalidArgument(string message) => Error(400, "INVALID_ARGUMENT", message);

    public static UpstreamReply Internal() => Error(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");

    public static UpstreamReply Unavailable() => Error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");

    public static UpstreamReply NotFound(string model) => Error(404, "NOT_FOUND", $"models/{model} is not found for API version v1beta, or is not supported for generateContent.");

    /// <summary>What Google answers a key it does not know: 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID.</summary>
    public static UpstreamReply ApiKeyInvalid() => Error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        new JsonArray(new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", ["reason"] = "API_KEY_INVALID", ["domain"] = "googleapis.com" }));

    /// <summary>What Google answers a request without a key: 403 PERMISSION_DENIED.</summary>
    public static UpstreamReply PermissionDenied() => Error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");

    public static UpstreamReply PromptBlocked(string blockReason) => new() { FinishReason = PromptBlockedPrefix + blockReason };
}

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks Google's native Gemini API as documented:
/// <c>POST /v1beta/models/{model}:generateContent</c> (one <c>GenerateContentResponse</c>) and
/// <c>POST /v1beta/models/{model}:streamGenerateContent?alt=sse</c> (SSE <c>data: {…}\r\n\r\n</c> events, the last
/// carrying <c>finishReason</c> and <c>usageMetadata</c>); errors in Google's <c>{"error":{code,message,status,details}}</c>.
/// </summary>
/// <remarks>
/// The key must come in <c>x-goog-api-key</c> and equal <see cref="ApiKey"/>: none is 403 PERMISSION_DENIED, a wrong one
/// 400 API_KEY_INVALID (Google's own answers). <c>/{tag}/v1beta/…</c> lets one double stand in for several providers
/// (<see cref="BaseUrlFor"/>). Answers come from <see cref="Behavior"/> when it returns a reply, else the echo default
/// (<c>echo: &lt;last user text&gt;</c>). <see cref="UpstreamReply.FinishReason"/> is Gemini's (STOP, MAX_TOKENS, SAFETY…;
/// see <see cref="GeminiReplies.PromptBlocked"/>); <see cref="UpstreamReply.AbortAfterEvents"/> drops the connection
/// after that many events. Recorded paths include the query string. Embeddings (<c>:embedContent</c>,
/// <c>:batchEmbedContents</c>) are in <c>GeminiUpstreamDouble.Embed.cs</c>, recorded apart from chat.
/// </remarks>
public sealed partial class GeminiUpstreamDouble : IAsyncDisposable
{
    public const string ModelVersion = "gemini-2.5-flash-001";

    private LoopbackServer _server = null!;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private GeminiUpstreamDouble(string apiKey)
    {
        ApiKey = apiKey;
    }

    /// <summary>The base URL to configure: <c>http://127.0.0.1:PORT</c> (no version; the adapter adds <c>/v1beta</c>).</summary>
    public string BaseUrl { get; private set; } = null!;

    /// <summary>The key the double accepts.</summary>
    public string ApiKey { get; }

    public Func<RecordedRequest, UpstreamReply?>? Behavior { get; set; }

    /// <summary>Added to <c>usageMetadata</c> as <c>thoughtsTokenCount</c> when set (a thinking model's answer).</summary>
    public int? ThoughtsTokens { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public RecordedRequest LastRequest => _requests.LastOrDefault() ?? throw new InvalidOperationException("the upstream double received no request");

    public string BaseUrlFor(string tag) => $"{BaseUrl}/{tag}";

    public int RequestCountFor(string? tag) => _requests.Count(r => r.Tag == tag);

    /// <summary>The model a recorded request named in its path (<c>…/models/{model}:method</c>).</summary>
    public static string? ModelOf(RecordedRequest request)
    {
        var start = request.Path.IndexOf("/models/", StringComparison.Ordinal);
        var end = request.Path.LastIndexOf(':');
        return start < 0 || end < start ? null : Uri.UnescapeDataString(request.Path[(start + "/models/".Length)..end]);
    }

    public static bool IsStream(RecordedRequest request) => request.Path.Contains(":streamGenerateContent", StringComparison.Ordinal);

    /// <summary>The concatenated text parts of the last <c>user</c> content that has text.</summary>
    public static string LastUserText(RecordedRequest request)
    {
        if (request.Json?["contents"] is not JsonArray contents)
        {
            return string.Empty;
        }

        for (var i = contents.Count - 1; i >= 0; i--)
        {
            if (contents[i]?["role"]?.GetValue<string>() is "user" && contents[i]!["parts"] is JsonArray parts
                && parts.Where(p => p?["text"] is not null).Select(p => p!["text"]!.GetValue<string>()).ToList() is { Count: > 0 } texts)
            {
                return string.Concat(texts);
            }
        }

        return string.Empty;
    }

    /// <summary>Whether the request's last content holds <c>functionResponse</c> parts (a tool round's second call).</summary>
    public static bool HasFunctionResponse(RecordedRequest request) =>
        request.Json?["contents"] is JsonArray { Count: > 0 } contents
        && contents[^1]?["parts"] is JsonArray parts
        && parts.Any(p => p?["functionResponse"] is not null);

    public static async Task<GeminiUpstreamDouble> StartAsync(string apiKey = "gm-FAKE-double-key-0123456789", CancellationToken cancellationToken = default)
    {
        var upstream = new GeminiUpstreamDouble(apiKey);
        upstream._server = await LoopbackServer.StartAsync(upstream.HandleAsync, cancellationToken).ConfigureAwait(false);
        upstream.BaseUrl = upstream._server.BaseAddress.ToString().TrimEnd('/');
        return upstream;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var versionAt = path.IndexOf("/v1beta/models/", StringComparison.Ordinal);
        var tag = versionAt > 0 ? path[1..versionAt] : null;
        var stream = path.EndsWith(":streamGenerateContent", StringComparison.Ordinal);
        var embed = IsEmbedPath(path);
        if (!HttpMethods.IsPost(context.Request.Method) || versionAt < 0
            || (!stream && !embed && !path.EndsWith(":generateContent", StringComparison.Ordinal)))
        {
            await WriteErrorAsync(context, GeminiReplies.Error(404, "NOT_FOUND", "The requested URL was not found on this server.")).ConfigureAwait(false);
            return;
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            json = null;
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new RecordedRequest(context.Request.Method, path + context.Request.QueryString, tag, headers, body, json);
        if (embed)
        {
            RecordEmbedRequest(request);
        }
        else
        {
            _requests.Enqueue(request);
        }

        if (json is null)
        {
            await WriteErrorAsync(context, GeminiReplies.InvalidArgument("Invalid JSON payload received.")).ConfigureAwait(false);
            return;
        }

        if (request.Header("x-goog-api-key") is not { Length: > 0 } key)
        {
            await WriteErrorAsync(context, GeminiReplies.PermissionDenied()).ConfigureAwait(false);
            return;
        }

        if (key != ApiKey)
        {
            await WriteErrorAsync(context, GeminiReplies.ApiKeyInvalid()).ConfigureAwait(false);
            return;
        }

        if (embed)
        {
            await HandleEmbedAsync(context, request).ConfigureAwait(false);
            return;
        }

        if (stream && context.Request.Query["alt"] != "sse")
        {
            // Without alt=sse Google streams one JSON array, which this double does not play.
            await WriteErrorAsync(context, GeminiReplies.InvalidArgument("this double streams only with alt=sse")).ConfigureAwait(false);
            return;
        }

        var reply = Behavior?.Invoke(request) ?? new UpstreamReply();
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

        var responseId = "gm-resp-" + Guid.NewGuid().ToString("N")[..12];
        var text = reply.ToolCalls.Count > 0 && reply.Text is null ? "" : reply.Text ?? $"echo: {LastUserText(request)}";
        try
        {
            if (reply.Fault != UpstreamFault.None)
            {
                var wire = new FaultWire(
                    "text/event-stream",
                    "",
                    piece => Event(Answer(responseId, piece, [], null, null)),
                    whole => Answer(responseId, whole, [], "STOP", reply).ToJsonString(),
                    GeminiReplies.Internal().Body!,
                    message => GeminiReplies.InvalidArgument(message).Body!,
                    envelope => Event(JsonNode.Parse(envelope)!));
                await UpstreamFaults.WriteAsync(context, reply, stream, wire).ConfigureAwait(false);
                return;
            }

            if (reply.FinishReason is { } blocked && blocked.StartsWith(GeminiReplies.PromptBlockedPrefix, StringComparison.Ordinal))
            {
                var answer = new JsonObject
                {
                    ["promptFeedback"] = new JsonObject { ["blockReason"] = blocked[GeminiReplies.PromptBlockedPrefix.Length..] },
                    ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = reply.PromptTokens, ["totalTokenCount"] = reply.PromptTokens },
                    ["modelVersion"] = ModelVersion,
                    ["responseId"] = responseId,
                };
                await WriteAnswerAsync(context, stream, [answer]).ConfigureAwait(false);
                return;
            }

            var finish = reply.FinishReason ?? "STOP";
            if (!stream)
            {
                if (reply.Body is { } verbatim)
                {
                    context.Response.ContentType = "application/json; charset=UTF-8";
                    await context.Response.WriteAsync(verbatim, context.RequestAborted).ConfigureAwait(false);
                    return;
                }

                await WriteAnswerAsync(context, stream: false, [Answer(responseId, text, reply.ToolCalls, finish, reply)]).ConfigureAwait(false);
                return;
            }

            var pieces = new List<string>();
            for (var i = 0; i < text.Length; i += 8)
            {
                pieces.Add(text.Substring(i, Math.Min(8, text.Length - i)));
            }

            var events = new List<JsonObject>();
            for (var i = 0; i < pieces.Count - 1; i++)
            {
                events.Add(Answer(responseId, pieces[i], [], null, null));
            }

            events.Add(Answer(responseId, pieces.Count > 0 ? pieces[^1] : "", reply.ToolCalls, finish, reply));
            await WriteAnswerAsync(context, stream: true, events, reply.AbortAfterEvents, reply.AbortWhen).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer, or the double dropped the connection on purpose.
        }
    }

    /// <summary>One <c>GenerateContentResponse</c>; usage only with a finish reason, as on Gemini's last event.</summary>
    private JsonObject Answer(string responseId, string text, IReadOnlyList<UpstreamToolCall> calls, string? finishReason, UpstreamReply? reply)
    {
        var parts = new JsonArray();
        if (text.Length > 0 || calls.Count == 0)
        {
            parts.Add(new JsonObject { ["text"] = text });
        }

        foreach (var call in calls)
        {
            parts.Add(new JsonObject { ["functionCall"] = new JsonObject { ["name"] = call.Name, ["args"] = JsonNode.Parse(call.ArgumentsJson) } });
        }

        var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" }, ["index"] = 0 };
        if (finishReason is not null)
        {
            candidate["finishReason"] = finishReason;
        }

        var answer = new JsonObject
        {
            ["candidates"] = new JsonArray(candidate),
            ["modelVersion"] = ModelVersion,
            ["responseId"] = responseId,
        };
        if (finishReason is not null && reply is not null)
        {
            var usage = new JsonObject
            {
                ["promptTokenCount"] = reply.PromptTokens,
                ["candidatesTokenCount"] = reply.CompletionTokens,
                ["totalTokenCount"] = reply.PromptTokens + reply.CompletionTokens + (ThoughtsTokens ?? 0),
            };
            if (ThoughtsTokens is { } thoughts)
            {
                usage["thoughtsTokenCount"] = thoughts;
            }

            answer["usageMetadata"] = usage;
        }

        return answer;
    }

    private static string Event(JsonNode data) => $"data: {data.ToJsonString()}\r\n\r\n";

    private static async Task WriteAnswerAsync(HttpContext context, bool stream, IReadOnlyList<JsonObject> events, int? abortAfter = null, Task? abortWhen = null)
    {
        context.Response.StatusCode = 200;
        if (!stream)
        {
            context.Response.ContentType = "application/json; charset=UTF-8";
            await context.Response.WriteAsync(events[^1].ToJsonString(), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < events.Count; i++)
        {
            if (abortAfter == i)
            {
                if (abortWhen is not null)
                {
                    await abortWhen.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                }

                context.Abort();
                return;
            }

            await context.Response.WriteAsync(Event(events[i]), context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, UpstreamReply reply)
    {
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(reply.Body ?? GeminiReplies.Envelope(reply.Status, "UNKNOWN", "failed"), context.RequestAborted).ConfigureAwait(false);
    }
}
