using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;
using OpenAI;
using OpenAI.Embeddings;

namespace Gatehouse.Tests.EndToEnd.Embeddings;

/// <summary>
/// One real silo (cache on, app quotas) in front of an OpenAI and an Ollama upstream double, for <c>POST /v1/embeddings</c>.
/// Aliases: <c>embed</c> (OpenAI), <c>embed-flaky</c> (OpenAI answering 500) falling back to <c>embed-backup</c>,
/// <c>embed-local</c> (Ollama), <c>embed-sim</c> (Simulated) and the chat alias <c>gpt</c>. Apps: <c>embedder</c>
/// (a token quota) and <c>chatter</c> (may use <c>gpt</c> only).
/// </summary>
public sealed class EmbeddingsFixture : IAsyncLifetime
{
    public const string AppKey = "gk-FAKE-embeddings-app";
    public const string ChatOnlyKey = "gk-FAKE-embeddings-chat-only";
    public const int TokensPerMinute = 1_000_000;


    public OpenAIUpstreamDouble OpenAI { get; private set; } = null!;

    public OllamaUpstreamDouble Ollama { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        OpenAI = await OpenAIUpstreamDouble.StartAsync();
        OpenAI.EmbeddingBehavior = request => request.Tag == "flaky" ? UpstreamReply.ServerError() : null;
        Ollama = await OllamaUpstreamDouble.StartAsync();

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Cache"] = new JsonObject { ["Enabled"] = true },
                ["Providers"] = new JsonObject
                {
                    ["openai"] = Provider("OpenAI", OpenAI.BaseUrlFor("main"), "sk-FAKE-embeddings-openai"),
                    ["openai-flaky"] = Provider("OpenAI", OpenAI.BaseUrlFor("flaky"), "sk-FAKE-embeddings-openai"),
                    ["ollama"] = Provider("Ollama", Ollama.BaseUrl, null),
                    ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["LatencyMs"] = 0 },
                },
                ["Models"] = new JsonObject
                {
                    ["embed"] = Alias("openai", "text-embedding-3-small"),
                    ["embed-flaky"] = Alias("openai-flaky", "text-embedding-3-small", fallbacks: ["embed-backup"]),
                    ["embed-backup"] = Alias("openai", "text-embedding-3-large"),
                    ["embed-local"] = Alias("ollama", "nomic-embed-text"),
                    ["embed-sim"] = Alias("sim", "sim-embed-1"),
                    ["gpt"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "openai", ["Model"] = "gpt-4o-mini" }) },
                },
                ["Apps"] = new JsonObject
                {
                    ["embedder"] = new JsonObject { ["Keys"] = new JsonArray(AppKey), ["TokensPerMinute"] = TokensPerMinute },
                    ["chatter"] = new JsonObject { ["Keys"] = new JsonArray(ChatOnlyKey), ["Models"] = new JsonArray("gpt") },
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

        foreach (var upstream in new IAsyncDisposable?[] { OpenAI, Ollama })
        {
            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    /// <summary>The official SDK's embeddings client for an alias, pointed at the silo, with no retries of its own.</summary>
    public EmbeddingClient Client(string alias, string key = AppKey) =>
        new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri($"{Silo.BaseUrl}/v1"), RetryPolicy = new ClientRetryPolicy(0) })
            .GetEmbeddingClient(alias);

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
        ["Type"] = "Embeddings",
        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = model }),
        ["Fallbacks"] = new JsonArray([.. (fallbacks ?? []).Select(f => (JsonNode)f)]),
    };
}

[CollectionDefinition(Name)]
public sealed class EmbeddingsCollection : ICollectionFixture<EmbeddingsFixture>
{
    public const string Name = "embeddings";
}
