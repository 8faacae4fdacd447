using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Anthropic;
using Gatehouse.Tests.Doubles;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Responses;

namespace Gatehouse.Tests.EndToEnd.Gemini;

/// <summary>
/// One real silo process in front of a Gemini upstream double and an OpenAI upstream double. Aliases: <c>gemini</c>
/// (the Gemini double; it asks for <c>get_weather</c> when given tools and no function response yet), and
/// <c>gemini-cut</c> (a Gemini stream that reports an error event after its first text; falls back to <c>gemini</c>), and
/// <c>gpt-down</c> (an OpenAI upstream that answers 503) falling back to <c>gemini</c>; and <c>gemini-embed</c>, an
/// <c>Embeddings</c> alias for <see cref="EmbeddingModel"/> on the Gemini double. The Gemini key is read from
/// <c>env:E2E_GEMINI_KEY</c>.
/// </summary>
public sealed class GeminiFixture : IAsyncLifetime
{
    public const string AppKey = "gk-FAKE-e2e-gemini-app";
    public const string GeminiProviderKey = "gm-FAKE-e2e-gemini-key-0123456789";
    public const string GeminiModel = "gemini-2.5-flash";
    public const string EmbeddingModel = "gemini-embedding-001";
    public const string EmbeddingAlias = "gemini-embed";

    public GeminiUpstreamDouble Gemini { get; private set; } = null!;

    public OpenAIUpstreamDouble OpenAI { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Gemini = await GeminiUpstreamDouble.StartAsync(GeminiProviderKey);
        Gemini.Behavior = request => request.Tag == "cut"
            ? new UpstreamReply { Fault = UpstreamFault.ErrorEventMidStream, Text = "Request contains an invalid argument." }
            : request.Json?["tools"] is JsonArray { Count: > 0 } && !GeminiUpstreamDouble.HasFunctionResponse(request)
            ? new UpstreamReply { ToolCalls = [new UpstreamToolCall("", "get_weather", """{"city":"Paris"}""")], PromptTokens = 21, CompletionTokens = 6 }
            : new UpstreamReply { PromptTokens = 17, CompletionTokens = 9 };
        OpenAI = await OpenAIUpstreamDouble.StartAsync();
        OpenAI.Behavior = request => request.Tag == "down"
            ? new UpstreamReply { Status = 503, Body = """{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}""" }
            : null;

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    ["gemini"] = new JsonObject { ["Kind"] = "Gemini", ["BaseUrl"] = Gemini.BaseUrl, ["ApiKey"] = "env:E2E_GEMINI_KEY", ["TimeoutSeconds"] = 10 },
                    ["gemini-cut"] = new JsonObject { ["Kind"] = "Gemini", ["BaseUrl"] = Gemini.BaseUrlFor("cut"), ["ApiKey"] = "env:E2E_GEMINI_KEY", ["TimeoutSeconds"] = 10 },
                    ["openai-down"] = new JsonObject { ["Kind"] = "OpenAI", ["BaseUrl"] = OpenAI.BaseUrlFor("down"), ["ApiKey"] = "sk-FAKE-e2e-gemini-openai", ["TimeoutSeconds"] = 10 },
                },
                ["Models"] = new JsonObject
                {
                    ["gemini"] = Alias("gemini", GeminiModel),
                    ["gemini-cut"] = Alias("gemini-cut", GeminiModel, fallbacks: ["gemini"]),
                    ["gpt-down"] = Alias("openai-down", "gpt-4o-mini", fallbacks: ["gemini"]),
                    [EmbeddingAlias] = new JsonObject
                    {
                        ["Type"] = "Embeddings",
                        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "gemini", ["Model"] = EmbeddingModel }),
                    },
                },
                ["Apps"] = new JsonObject
                {
                    ["gemini-e2e"] = new JsonObject { ["Keys"] = new JsonArray(AppKey) },
                },
            },
        };

        Silo = await SiloProcess.StartAsync(config.ToJsonString(), new Dictionary<string, string> { ["E2E_GEMINI_KEY"] = GeminiProviderKey });
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        if (Gemini is not null)
        {
            await Gemini.DisposeAsync();
        }

        if (OpenAI is not null)
        {
            await OpenAI.DisposeAsync();
        }
    }

    /// <summary>The official OpenAI SDK's chat client for an alias, pointed at the silo, with no retries of its own.</summary>
    public ChatClient OpenAIChat(string alias) => OpenAIClient().GetChatClient(alias);

    /// <summary>The official OpenAI SDK's embedding client for an alias, pointed at the silo, with no retries of its own.</summary>
    public EmbeddingClient OpenAIEmbeddings(string alias) => OpenAIClient().GetEmbeddingClient(alias);

    /// <summary>The official OpenAI SDK's Responses client, pointed at the silo.</summary>
    public ResponsesClient Responses() => OpenAIClient().GetResponsesClient();

    /// <summary>The official Anthropic SDK, pointed at the silo.</summary>
    public AnthropicClient AnthropicSdk() => new() { BaseUrl = Silo.BaseUrl, ApiKey = AppKey, MaxRetries = 0 };

    private OpenAIClient OpenAIClient() =>
        new(new ApiKeyCredential(AppKey), new OpenAIClientOptions { Endpoint = new Uri(Silo.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });

    private static JsonObject Alias(string provider, string model, string[]? fallbacks = null) => new()
    {
        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = model }),
        ["Fallbacks"] = new JsonArray([.. (fallbacks ?? []).Select(f => (JsonNode)f)]),
    };
}

[CollectionDefinition(Name)]
public sealed class GeminiCollection : ICollectionFixture<GeminiFixture>
{
    public const string Name = "gemini";
}
