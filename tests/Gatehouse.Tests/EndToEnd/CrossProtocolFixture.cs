using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process in front of an OpenAI upstream double and an Anthropic upstream double, so either front
/// end can be served by either vendor. Anthropic tags: <c>main</c> (healthy; asks for a tool when given tools and no
/// tool result), <c>overloaded</c> (529), <c>badkey</c> (401), <c>badreq</c> (400), <c>toolong</c> ("prompt is too
/// long"), <c>ratelimited</c> (429, retry-after 7), <c>cut</c> (an error event after the stream started). OpenAI tags: <c>main</c> (same tool behaviour), <c>flaky</c> (500).
/// </summary>
public sealed class CrossProtocolFixture : IAsyncLifetime
{
    public const string AppKey = "gk-e2e-cross";
    public const string OpenAIProviderKey = "sk-e2e-openai-secret-0123456789";
    public const string AnthropicProviderKey = "test-ant-e2e-anthropic-secret-0123456789";
    public const string AnthropicToolId = "toolu_01CrossProtocol";
    public const string OpenAIToolId = "call_CrossProtocol01";
    public const int RetryAfterSeconds = 7;

    public OpenAIUpstreamDouble OpenAI { get; private set; } = null!;

    public AnthropicUpstreamDouble Anthropic { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        OpenAI = await OpenAIUpstreamDouble.StartAsync();
        OpenAI.Behavior = request => request.Tag switch
        {
            "flaky" => UpstreamReply.ServerError(),
            _ when request.Json?["tools"] is not null && LastRole(request) != "tool" =>
                new UpstreamReply { ToolCalls = [new UpstreamToolCall(OpenAIToolId, "get_weather", """{"city":"Paris"}""")] },
            _ => null,
        };

        Anthropic = await AnthropicUpstreamDouble.StartAsync();
        Anthropic.Behavior = request => request.Tag switch
        {
            "overloaded" => AnthropicReplies.Overloaded(),
            "badkey" => AnthropicReplies.InvalidApiKey(),
            "badreq" => AnthropicReplies.BadRequest("messages.0.content.0.text: text content blocks must be non-empty"),
            "toolong" => AnthropicReplies.PromptTooLong(),
            "ratelimited" => AnthropicReplies.RateLimited(RetryAfterSeconds),
            "cut" => new UpstreamReply { Text = "a partial answer that is cut short", AbortAfterEvents = 4 },
            _ when request.Json?["tools"] is not null && !HasToolResult(request) =>
                new UpstreamReply { ToolCalls = [new UpstreamToolCall(AnthropicToolId, "get_weather", """{"city":"Paris"}""")] },
            _ => null,
        };

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    ["openai"] = Provider("OpenAI", OpenAI.BaseUrlFor("main"), "env:E2E_OPENAI_KEY"),
                    ["openai-flaky"] = Provider("OpenAI", OpenAI.BaseUrlFor("flaky"), "env:E2E_OPENAI_KEY"),
                    ["anthropic"] = Provider("Anthropic", Anthropic.BaseUrlFor("main"), "env:E2E_ANTHROPIC_KEY"),
                    ["anthropic-overloaded"] = Provider("Anthropic", Anthropic.BaseUrlFor("overloaded"), "env:E2E_ANTHROPIC_KEY"),
                    ["anthropic-badkey"] = Provider("Anthropic", Anthropic.BaseUrlFor("badkey"), "env:E2E_ANTHROPIC_KEY"),
                    ["anthropic-badreq"] = Provider("Anthropic", Anthropic.BaseUrlFor("badreq"), "env:E2E_ANTHROPIC_KEY"),
                    ["anthropic-toolong"] = Provider("Anthropic", Anthropic.BaseUrlFor("toolong"), "env:E2E_ANTHROPIC_KEY"),
                    ["anthropic-ratelimited"] = Provider("Anthropic", Anthropic.BaseUrlFor("ratelimited"), "env:E2E_ANTHROPIC_KEY"),
                    ["anthropic-cut"] = Provider("Anthropic", Anthropic.BaseUrlFor("cut"), "env:E2E_ANTHROPIC_KEY"),
                },
                ["Models"] = new JsonObject
                {
                    ["gpt"] = Alias("openai", "gpt-4o-mini"),
                    ["gpt-flaky"] = Alias("openai-flaky", "gpt-4o-mini"),
                    ["claude"] = Alias("anthropic", "claude-sonnet-4-5"),
                    ["claude-overloaded"] = Alias("anthropic-overloaded", "claude-sonnet-4-5"),
                    ["claude-overloaded-then-gpt"] = Alias("anthropic-overloaded", "claude-sonnet-4-5", fallbacks: ["gpt"]),
                    ["claude-badkey"] = Alias("anthropic-badkey", "claude-sonnet-4-5"),
                    ["claude-badreq"] = Alias("anthropic-badreq", "claude-sonnet-4-5"),
                    ["claude-toolong"] = Alias("anthropic-toolong", "claude-sonnet-4-5"),
                    ["claude-ratelimited"] = Alias("anthropic-ratelimited", "claude-sonnet-4-5"),
                    ["claude-cut"] = Alias("anthropic-cut", "claude-sonnet-4-5", fallbacks: ["gpt"]),
                },
                ["Apps"] = new JsonObject
                {
                    ["cross"] = new JsonObject { ["Keys"] = new JsonArray(AppKey) },
                },
            },
        };

        Silo = await SiloProcess.StartAsync(config.ToJsonString(), new Dictionary<string, string>
        {
            ["E2E_OPENAI_KEY"] = OpenAIProviderKey,
            ["E2E_ANTHROPIC_KEY"] = AnthropicProviderKey,
        });
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        if (OpenAI is not null)
        {
            await OpenAI.DisposeAsync();
        }

        if (Anthropic is not null)
        {
            await Anthropic.DisposeAsync();
        }
    }

    private static string? LastRole(RecordedRequest request) =>
        request.Json?["messages"] is JsonArray { Count: > 0 } messages ? messages[^1]?["role"]?.GetValue<string>() : null;

    private static bool HasToolResult(RecordedRequest request) =>
        request.Json?["messages"] is JsonArray { Count: > 0 } messages
        && messages[^1]?["content"] is JsonArray blocks
        && blocks.Any(b => b?["type"]?.GetValue<string>() == "tool_result");

    private static JsonObject Provider(string kind, string baseUrl, string apiKey) =>
        new() { ["Kind"] = kind, ["BaseUrl"] = baseUrl, ["ApiKey"] = apiKey, ["TimeoutSeconds"] = 10 };

    private static JsonObject Alias(string provider, string model, string[]? fallbacks = null) => new()
    {
        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = model }),
        ["Fallbacks"] = new JsonArray([.. (fallbacks ?? []).Select(f => (JsonNode)f)]),
    };
}

[CollectionDefinition(Name)]
public sealed class CrossProtocolCollection : ICollectionFixture<CrossProtocolFixture>
{
    public const string Name = "cross-protocol";
}
