using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process in front of an OpenAI upstream double, with app quotas: <c>metered</c> (20 requests and
/// 10,000 tokens a minute, i.e. one request per 3 s window; no waiting by default) and <c>open</c> (no limits).
/// </summary>
public sealed class QuotaFixture : IAsyncLifetime
{
    public const string MeteredKey = "gk-quota-metered";
    public const string OpenKey = "gk-quota-open";
    public const int MeteredRequestsPerMinute = 20;
    public const int MeteredTokensPerMinute = 10_000;

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
                    ["upstream"] = new JsonObject { ["Kind"] = "OpenAICompatible", ["BaseUrl"] = Upstream.BaseUrlFor("quota"), ["RequestsPerMinute"] = 6_000 },
                },
                ["Models"] = new JsonObject
                {
                    ["gpt-quota"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "upstream", ["Model"] = "gpt-4o-mini" }) },
                },
                ["Apps"] = new JsonObject
                {
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
}

[CollectionDefinition(Name)]
public sealed class QuotaCollection : ICollectionFixture<QuotaFixture>
{
    public const string Name = "quota";
}
