using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process in front of an OpenAI upstream double that plays several upstreams by path tag:
/// <c>main</c> (healthy, OpenAI kind), <c>flaky</c> (always 500), <c>healthy</c>, <c>slow</c> (answers after the
/// provider's timeout), <c>overloaded</c> (503), plus a provider on a closed port.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string MainKey = "gk-e2e-main";
    public const string LimitedKey = "gk-e2e-limited";
    public const string ProviderKey = "sk-e2e-provider-secret-0123456789";
    public const int MaxBodyBytes = 64 * 1024;

    public OpenAIUpstreamDouble Upstream { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string ApiBase => Silo.BaseUrl + "/v1";

    public async Task InitializeAsync()
    {
        Upstream = await OpenAIUpstreamDouble.StartAsync();
        Upstream.Behavior = request => request.Tag switch
        {
            "flaky" => UpstreamReply.ServerError(),
            "slow" => new UpstreamReply { DelayMs = 5_000 },
            "overloaded" => new UpstreamReply
            {
                Status = 503,
                Body = """{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}""",
            },
            _ => null,
        };

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["MaxRequestBodyBytes"] = MaxBodyBytes,
                ["Providers"] = new JsonObject
                {
                    ["openai-main"] = Provider("OpenAI", Upstream.BaseUrlFor("main"), apiKey: "env:E2E_PROVIDER_KEY"),
                    ["flaky"] = Provider("OpenAICompatible", Upstream.BaseUrlFor("flaky")),
                    ["healthy"] = Provider("OpenAICompatible", Upstream.BaseUrlFor("healthy")),
                    ["slow"] = Provider("OpenAICompatible", Upstream.BaseUrlFor("slow"), timeoutSeconds: 0.5),
                    ["overloaded"] = Provider("OpenAICompatible", Upstream.BaseUrlFor("overloaded")),
                    ["down"] = Provider("OpenAICompatible", $"http://127.0.0.1:{TestPorts.Closed()}/v1"),
                },
                ["Models"] = new JsonObject
                {
                    ["gpt-test"] = Alias("openai-main", "gpt-4o-mini"),
                    ["with-fallback"] = Alias("flaky", "flaky-model", fallbacks: ["backup"]),
                    ["backup"] = Alias("healthy", "healthy-model"),
                    ["slow"] = Alias("slow", "slow-model"),
                    ["dead"] = Alias("flaky", "flaky-model", fallbacks: ["unreachable"]),
                    ["unreachable"] = Alias("down", "down-model"),
                    ["busy"] = Alias("overloaded", "busy-model"),
                },
                ["Apps"] = new JsonObject
                {
                    ["main"] = new JsonObject { ["Keys"] = new JsonArray(MainKey) },
                    ["limited"] = new JsonObject { ["Keys"] = new JsonArray(AppKeyHash(LimitedKey)), ["Models"] = new JsonArray("backup") },
                },
            },
        };

        Silo = await SiloProcess.StartAsync(config.ToJsonString(), new Dictionary<string, string> { ["E2E_PROVIDER_KEY"] = ProviderKey });
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
    }

    /// <summary>The limited app's key is configured only as its hash, as an operator would.</summary>
    private static string AppKeyHash(string key) => "sha256:" + Gatehouse.Apps.AppKeyHasher.Hash(key);

    private static JsonObject Provider(string kind, string baseUrl, string? apiKey = null, double timeoutSeconds = 10)
    {
        var provider = new JsonObject { ["Kind"] = kind, ["BaseUrl"] = baseUrl, ["TimeoutSeconds"] = timeoutSeconds };
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
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
