using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// A real silo process with the response cache on a short real TTL, in front of an OpenAI upstream double, with apps
/// that keep their own cache namespace and two that share one.
/// </summary>
public sealed class CacheFixture : IAsyncLifetime
{
    public const string KeyA = "gk-e2e-cache-a";
    public const string KeyB = "gk-e2e-cache-b";
    public const string TeamKey1 = "gk-e2e-cache-team1";
    public const string TeamKey2 = "gk-e2e-cache-team2";
    public const string Model = "cached";
    public const string Tag = "cache";
    /// <summary>Short, so that expiry can be observed on the real clock; long enough for a hit right after a miss on a busy machine.</summary>
    public const int TtlSeconds = 3;
    /// <summary>How long the double holds answers to "slow:" prompts, so that a second caller can join the call in flight.</summary>
    public const int SlowMs = 4_000;

    public OpenAIUpstreamDouble Upstream { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string ApiBase => Silo.BaseUrl + "/v1";

    public async Task InitializeAsync()
    {
        Upstream = await OpenAIUpstreamDouble.StartAsync();
        Upstream.Behavior = request => request.LastUserText.StartsWith("slow:", StringComparison.Ordinal) ? new UpstreamReply { DelayMs = SlowMs } : null;

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    ["up"] = new JsonObject { ["Kind"] = "OpenAICompatible", ["BaseUrl"] = Upstream.BaseUrlFor(Tag), ["TimeoutSeconds"] = 30 },
                },
                ["Models"] = new JsonObject
                {
                    [Model] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "up", ["Model"] = "up-model" }) },
                },
                ["Apps"] = new JsonObject
                {
                    ["a"] = new JsonObject { ["Keys"] = new JsonArray(KeyA) },
                    ["b"] = new JsonObject { ["Keys"] = new JsonArray(KeyB) },
                    ["team1"] = new JsonObject { ["Keys"] = new JsonArray(TeamKey1), ["CacheNamespace"] = "team" },
                    ["team2"] = new JsonObject { ["Keys"] = new JsonArray(TeamKey2), ["CacheNamespace"] = "team" },
                },
                ["Cache"] = new JsonObject { ["Enabled"] = true, ["TtlSeconds"] = TtlSeconds },
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
public sealed class CacheCollection : ICollectionFixture<CacheFixture>
{
    public const string Name = "cache-e2e";
}
