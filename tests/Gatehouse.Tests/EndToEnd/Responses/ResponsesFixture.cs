using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;
using OpenAI;
using OpenAI.Responses;

namespace Gatehouse.Tests.EndToEnd.Responses;

/// <summary>
/// One real silo (cache on, an app quota, the shipped console settings) in front of an OpenAI, an Anthropic and an
/// Ollama upstream double, for the Responses API. Aliases: <c>gpt</c>, <c>claude</c>, <c>llama</c> (one per upstream
/// kind), <c>gpt-flaky</c> (500) falling back to <c>claude</c>, <c>gpt-cut</c> (a stream that breaks after its first text). Each double asks for the <c>get_weather</c> tool when
/// given tools and no tool result yet; the OpenAI double stops at max tokens when the prompt says "stop early".
/// Apps: <c>responses</c> and <c>other</c>.
/// </summary>
public sealed class ResponsesFixture : IAsyncLifetime
{
    public const string AppKey = "gk-FAKE-responses-app";
    public const string OtherAppKey = "gk-FAKE-responses-other";
    public const string ToolCallId = "call_Responses01";

    public OpenAIUpstreamDouble OpenAI { get; private set; } = null!;

    public AnthropicUpstreamDouble Anthropic { get; private set; } = null!;

    public OllamaUpstreamDouble Ollama { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    /// <summary>Set once the caller has read the first text delta of alias <c>gpt-cut</c>; its upstream breaks after that.</summary>
    public TaskCompletionSource CallerReadFirstDelta { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        OpenAI = await OpenAIUpstreamDouble.StartAsync();
        OpenAI.Behavior = request => request.Tag switch
        {
            "flaky" => UpstreamReply.ServerError(),
            "cut" => new UpstreamReply { Text = "a long answer the upstream cuts short", AbortAfterEvents = 3, AbortWhen = CallerReadFirstDelta.Task },
            _ when WantsTool(request) => new UpstreamReply { ToolCalls = [new UpstreamToolCall(ToolCallId, "get_weather", """{"city":"Paris"}""")] },
            _ when request.LastUserText.Contains("stop early") => new UpstreamReply { Text = "cut at the", FinishReason = "length" },
            _ => null,
        };
        Anthropic = await AnthropicUpstreamDouble.StartAsync();
        Anthropic.Behavior = request => WantsTool(request)
            ? new UpstreamReply { ToolCalls = [new UpstreamToolCall("toolu_Responses01", "get_weather", """{"city":"Paris"}""")] }
            : null;
        Ollama = await OllamaUpstreamDouble.StartAsync();
        Ollama.Behavior = request => WantsTool(request)
            ? new UpstreamReply { ToolCalls = [new UpstreamToolCall("call_ollama01", "get_weather", """{"city":"Paris"}""")] }
            : null;

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Cache"] = new JsonObject { ["Enabled"] = true },
                ["Providers"] = new JsonObject
                {
                    ["openai"] = Provider("OpenAI", OpenAI.BaseUrlFor("main"), "sk-FAKE-responses-openai"),
                    ["openai-flaky"] = Provider("OpenAI", OpenAI.BaseUrlFor("flaky"), "sk-FAKE-responses-openai"),
                    ["openai-cut"] = Provider("OpenAI", OpenAI.BaseUrlFor("cut"), "sk-FAKE-responses-openai"),
                    ["anthropic"] = Provider("Anthropic", Anthropic.BaseUrlFor("main"), "sk-ant-FAKE-responses"),
                    ["ollama"] = Provider("Ollama", Ollama.BaseUrl, null),
                },
                ["Models"] = new JsonObject
                {
                    ["gpt"] = Alias("openai", "gpt-4o-mini"),
                    ["claude"] = Alias("anthropic", "claude-sonnet-4-5"),
                    ["llama"] = Alias("ollama", "llama3.2"),
                    ["gpt-flaky"] = Alias("openai-flaky", "gpt-4o-mini", fallbacks: ["claude"]),
                    ["gpt-cut"] = Alias("openai-cut", "gpt-4o-mini"),
                },
                ["Apps"] = new JsonObject
                {
                    ["responses"] = new JsonObject { ["Keys"] = new JsonArray(AppKey), ["RequestsPerMinute"] = 10_000 },
                    ["other"] = new JsonObject { ["Keys"] = new JsonArray(OtherAppKey) },
                },
            },
        };
        Silo = await SiloProcess.StartAsync(config.ToJsonString());
        Http = new HttpClient { BaseAddress = new Uri(Silo.BaseUrl) };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        foreach (var upstream in new IAsyncDisposable?[] { OpenAI, Anthropic, Ollama })
        {
            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    /// <summary>The official SDK's Responses client, pointed at the silo, with no retries of its own.</summary>
    public ResponsesClient Client(string key = AppKey) =>
        new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri($"{Silo.BaseUrl}/v1"), RetryPolicy = new ClientRetryPolicy(0) })
            .GetResponsesClient();

    /// <summary>Every request each double received, for the upstream kind of an alias.</summary>
    public IReadOnlyList<RecordedRequest> RequestsFor(string alias) => alias switch
    {
        "claude" => Anthropic.Requests,
        "llama" => Ollama.Requests,
        _ => OpenAI.Requests,
    };

    private static bool WantsTool(RecordedRequest request) =>
        request.Json?["tools"] is JsonArray { Count: > 0 } && !request.Body.Contains("\"tool_call_id\"") && !request.Body.Contains("\"tool_result\"") && !request.Body.Contains("\"role\":\"tool\"");

    private static JsonObject Provider(string kind, string baseUrl, string? apiKey)
    {
        var provider = new JsonObject { ["Kind"] = kind, ["BaseUrl"] = baseUrl, ["TimeoutSeconds"] = 10 };
        if (apiKey is not null)
        {
            provider["ApiKey"] = apiKey;
        }

        return provider;
    }

    private static JsonObject Alias(string provider, string model, string[]? fallbacks = null) => new()
    {
        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = model }),
        ["Fallbacks"] = new JsonArray([.. (fallbacks ?? []).Select(f => (JsonNode)f)]),
    };
}

[CollectionDefinition(Name)]
public sealed class ResponsesCollection : ICollectionFixture<ResponsesFixture>
{
    public const string Name = "responses";
}
