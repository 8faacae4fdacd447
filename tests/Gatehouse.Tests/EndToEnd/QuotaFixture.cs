using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process in front of an OpenAI upstream double, shared by the quota tests of one collection. App
/// quota state is shared across the tests of the collection, so every test has its own app (own key), and where a
/// test counts upstream calls, its own upstream tag. No waiting by default (<c>RateLimits:DefaultMaxWaitMs: 0</c>)
/// and no warm-up: every test must pass alone, first, or after any other.
/// </summary>
public sealed class QuotaFixture : IAsyncLifetime
{
    /// <summary>App <c>burst5</c>: 5 requests and 10,000 tokens a minute, all 5 admitted at once; model <see cref="AppBurstModel"/> (tag <see cref="AppBurstTag"/>).</summary>
    public const string AppBurstKey = "gk-quota-burst5";
    public const string AppBurstModel = "gpt-app5";
    public const string AppBurstTag = "app5";
    public const int AppBurstRequestsPerMinute = 5;
    public const int AppBurstTokensPerMinute = 10_000;

    /// <summary>App <c>upstream5</c> (no limits of its own) on model <see cref="UpstreamBurstModel"/>, whose only provider allows 5 requests a minute.</summary>
    public const string UpstreamBurstKey = "gk-quota-upstream5";
    public const string UpstreamBurstModel = "gpt-upstream5";
    public const string UpstreamBurstTag = "upstream5";
    public const int UpstreamRequestsPerMinute = 5;

    /// <summary>App <c>burst2</c>: 60 requests a minute with <c>Burst: 2</c>, on model <see cref="SharedModel"/>.</summary>
    public const string SmallBurstKey = "gk-quota-burst2";
    public const int SmallBurstRequestsPerMinute = 60;
    public const int SmallBurst = 2;

    /// <summary>App <c>metered</c>: 20 requests and 10,000 tokens a minute, used by one test only (through <c>/v1/messages</c>).</summary>
    public const string MeteredKey = "gk-quota-metered";
    public const int MeteredRequestsPerMinute = 20;
    public const int MeteredTokensPerMinute = 10_000;

    /// <summary>App <c>open</c>: no limits.</summary>
    public const string OpenKey = "gk-quota-open";

    /// <summary>The model every app but <c>burst5</c> and <c>upstream5</c> uses; its provider has no limits.</summary>
    public const string SharedModel = "gpt-quota";

    public OpenAIUpstreamDouble Upstream { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string ApiBase => Silo.BaseUrl + "/v1";

    public async Task InitializeAsync()
    {
        Upstream = await OpenAIUpstreamDouble.StartAsync();
        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    // No limits on these two: what their tests assert is the app's own quota alone (the cold-start
                    // tests cover an upstream and an app both limited).
                    ["upstream"] = new JsonObject { ["Kind"] = "OpenAICompatible", ["BaseUrl"] = Upstream.BaseUrlFor("quota") },
                    ["upstream-app5"] = new JsonObject { ["Kind"] = "OpenAICompatible", ["BaseUrl"] = Upstream.BaseUrlFor(AppBurstTag) },
                    ["upstream-limited"] = new JsonObject
                    {
                        ["Kind"] = "OpenAICompatible",
                        ["BaseUrl"] = Upstream.BaseUrlFor(UpstreamBurstTag),
                        ["RequestsPerMinute"] = UpstreamRequestsPerMinute,
                    },
                },
                ["Models"] = new JsonObject
                {
                    [SharedModel] = Alias("upstream"),
                    [AppBurstModel] = Alias("upstream-app5"),
                    [UpstreamBurstModel] = Alias("upstream-limited"),
                },
                ["Apps"] = new JsonObject
                {
                    ["burst5"] = new JsonObject
                    {
                        ["Keys"] = new JsonArray(AppBurstKey),
                        ["RequestsPerMinute"] = AppBurstRequestsPerMinute,
                        ["TokensPerMinute"] = AppBurstTokensPerMinute,
                    },
                    ["upstream5"] = new JsonObject { ["Keys"] = new JsonArray(UpstreamBurstKey) },
                    ["burst2"] = new JsonObject
                    {
                        ["Keys"] = new JsonArray(SmallBurstKey),
                        ["RequestsPerMinute"] = SmallBurstRequestsPerMinute,
                        ["Burst"] = SmallBurst,
                    },
                    ["metered"] = new JsonObject
                    {
                        ["Keys"] = new JsonArray(MeteredKey),
                        ["RequestsPerMinute"] = MeteredRequestsPerMinute,
                        ["TokensPerMinute"] = MeteredTokensPerMinute,
                    },
                    ["open"] = new JsonObject { ["Keys"] = new JsonArray(OpenKey) },
                },
                ["RateLimits"] = new JsonObject { ["DefaultMaxWaitMs"] = 0 },
            },
        };

        Silo = await SiloProcess.StartAsync(config.ToJsonString());
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

    private static JsonObject Alias(string provider) =>
        new() { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = "gpt-4o-mini" }) };
}

[CollectionDefinition(Name)]
public sealed class QuotaCollection : ICollectionFixture<QuotaFixture>
{
    public const string Name = "quota";
}
