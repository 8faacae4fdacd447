using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Doubles;

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks Ollama's native <c>POST /api/chat</c> as documented: one JSON object,
/// or NDJSON lines ending with a <c>"done":true</c> line carrying the counts; errors as <c>{"error":"…"}</c>. It serves
/// <c>POST /api/embed</c> beside it (<c>OllamaUpstreamDouble.Embed.cs</c>).
/// </summary>
/// <remarks>
/// Answers come from <see cref="Behavior"/> when it returns a reply, else the echo default. For errors the reply's
/// <see cref="UpstreamReply.Body"/> is sent verbatim. <see cref="UpstreamReply.FinishReason"/> is Ollama's done_reason.
/// </remarks>
public sealed partial class OllamaUpstreamDouble : IAsyncDisposable
{
    private LoopbackServer _server = null!;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private OllamaUpstreamDouble()
    {
    }

    /// <summary>The base URL to configure: <c>http://127.0.0.1:PORT</c>.</summary>
    public string BaseUrl { get; private set; } = null!;

    public Func<RecordedRequest, UpstreamReply?>? Behavior { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public RecordedRequest LastRequest => _requests.LastOrDefault() ?? throw new InvalidOperationException("the upstream double received no request");

    public static UpstreamReply Error(int status, string message) =>
        new() { Status = status, Body = new JsonObject { ["error"] = message }.ToJsonString() };

    public static async Task<OllamaUpstreamDouble> StartAsync(CancellationToken cancellationToken = default)
    {
        var upstream = new OllamaUpstreamDouble();
        upstream._server = await LoopbackServer.StartAsync(upstream.HandleAsync, cancellationToken).ConfigureAwait(false);
        upstream.BaseUrl = upstream._server.BaseAddress.ToString().TrimEnd('/');
        return upstream;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path == EmbedPath)
        {
            await HandleEmbedAsync(context).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/api/chat")
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("404 page not found").ConfigureAwait(false);
            return;
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        var json = JsonNode.Parse(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new RecordedRequest(context.Request.Method, context.Request.Path, null, headers, body, json);
        _requests.Enqueue(request);

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
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(reply.Body ?? """{"error":"failed"}""").ConfigureAwait(false);
            return;
        }

        var model = request.Model ?? "unknown";
        var text = reply.ToolCalls.Count > 0 && reply.Text is null ? "" : reply.Text ?? $"echo: {request.LastUserText}";
        var doneReason = reply.FinishReason ?? "stop";
        if (reply.Fault != UpstreamFault.None)
        {
            var wire = new FaultWire(
                "application/x-ndjson",
                "",
                piece => Line(model, piece, [], done: false, null, reply) + "\n",
                whole => Line(model, whole, [], done: true, "stop", reply),
                new JsonObject { ["error"] = "model runner has unexpectedly stopped" }.ToJsonString(),
                message => new JsonObject { ["error"] = message }.ToJsonString(),
                envelope => envelope + "\n");
            try
            {
                await UpstreamFaults.WriteAsync(context, reply, json?["stream"]?.GetValue<bool>() != false, wire).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-answer.
            }

            return;
        }
        if (json?["stream"]?.GetValue<bool>() != false)
        {
            // Ollama streams unless told not to.
            context.Response.ContentType = "application/x-ndjson";
            for (var i = 0; i < text.Length; i += 4)
            {
                await LineAsync(context, Line(model, text.Substring(i, Math.Min(4, text.Length - i)), [], done: false, null, reply)).ConfigureAwait(false);
            }

            if (reply.ToolCalls.Count > 0)
            {
                await LineAsync(context, Line(model, "", reply.ToolCalls, done: false, null, reply)).ConfigureAwait(false);
            }

            if (reply.AbortAfterEvents is not null)
            {
                await LineAsync(context, """{"error":"an error was encountered while running the model"}""").ConfigureAwait(false);
                return;
            }

            await LineAsync(context, Line(model, "", [], done: true, doneReason, reply)).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(Line(model, text, reply.ToolCalls, done: true, doneReason, reply)).ConfigureAwait(false);
    }

    private static string Line(string model, string content, IReadOnlyList<UpstreamToolCall> calls, bool done, string? doneReason, UpstreamReply reply)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (calls.Count > 0)
        {
            message["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
            {
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = JsonNode.Parse(c.ArgumentsJson) },
            })]);
        }

        var line = new JsonObject
        {
            ["model"] = model,
            ["created_at"] = "2025-06-01T12:00:00.123456789Z",
            ["message"] = message,
            ["done"] = done,
        };
        if (done)
        {
            line["done_reason"] = doneReason;
            line["total_duration"] = 4883583458;
            line["load_duration"] = 1334875;
            line["prompt_eval_count"] = reply.PromptTokens;
            line["prompt_eval_duration"] = 342546000;
            line["eval_count"] = reply.CompletionTokens;
            line["eval_duration"] = 4535599000;
        }

        return line.ToJsonString();
    }

    private static async Task LineAsync(HttpContext context, string line)
    {
        await context.Response.WriteAsync(line + "\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
