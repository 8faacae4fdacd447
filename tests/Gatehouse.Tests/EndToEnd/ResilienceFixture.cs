using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process in front of fault-injecting upstreams, all played by one OpenAI double by path tag:
/// <c>down</c> (always 500), <c>thirds</c> and <c>thirds-b</c> (every 3rd request fails), <c>phoenix</c> (fails until
/// <see cref="PhoenixUp"/> is set), <c>rejects</c> (always 400), <c>small</c> (prompt too long), <c>gone</c> (always
/// 500, opens after one failure), and healthy <c>spare</c> and <c>large</c>.
/// </summary>
public sealed class ResilienceFixture : IAsyncLifetime
{
    public const string AppKey = "gk-e2e-resilience";

    private int _thirds;
    private int _thirdsB;
    private volatile bool _phoenixUp;

    public OpenAIUpstreamDouble Upstream { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    /// <summary>Whether the <c>phoenix</c> upstream answers (it fails with 500 until set).</summary>
    public bool PhoenixUp
    {
        get => _phoenixUp;
        set => _phoenixUp = value;
    }

    public async Task InitializeAsync()
    {
        Upstream = await OpenAIUpstreamDouble.StartAsync();
        Upstream.Behavior = request => request.Tag switch
        {
            "down" or "gone" => UpstreamReply.ServerError(),
            "thirds" => Interlocked.Increment(ref _thirds) % 3 == 0 ? UpstreamReply.ServerError() : null,
            "thirds-b" => Interlocked.Increment(ref _thirdsB) % 3 == 0 ? UpstreamReply.ServerError() : null,
            "phoenix" => _phoenixUp ? null : UpstreamReply.ServerError(),
            "rejects" => UpstreamReply.BadRequest("Invalid value for 'temperature'.", "temperature"),
            "small" => UpstreamReply.ContextLengthExceeded(),
            _ => null,
        };

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    // A long break: the test counts calls after the trip and must not race a recovery probe.
                    ["down"] = Provider("down", breaker: (5, 60)),
                    ["thirds"] = Provider("thirds", retries: 1),
                    ["thirds-b"] = Provider("thirds-b"),
                    ["phoenix"] = Provider("phoenix", breaker: (3, 2)),
                    ["rejects"] = Provider("rejects", retries: 2),
                    ["small"] = Provider("small"),
                    ["large"] = Provider("large"),
                    ["gone"] = Provider("gone", breaker: (1, 60)),
                    ["spare"] = Provider("spare"),
                },
                ["Models"] = new JsonObject
                {
                    ["always-down"] = Alias("down", fallbacks: ["spare"]),
                    ["mostly"] = Alias("thirds", fallbacks: ["spare"]),
                    ["mostly-no-retry"] = Alias("thirds-b", fallbacks: ["spare"]),
                    ["phoenix"] = Alias("phoenix", fallbacks: ["spare"]),
                    ["phoenix-solo"] = Alias("phoenix"),
                    ["strict"] = Alias("rejects", fallbacks: ["spare"]),
                    ["small-ctx"] = Alias("small", fallbacks: ["spare"], contextWindowFallbacks: ["large-ctx"]),
                    ["large-ctx"] = Alias("large"),
                    ["doomed"] = Alias("gone"),
                    ["spare"] = Alias("spare"),
                },
                ["Apps"] = new JsonObject
                {
                    ["resilience"] = new JsonObject { ["Keys"] = new JsonArray(AppKey) },
                },
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

    private JsonObject Provider(string tag, int retries = 0, (int Threshold, double BreakSeconds)? breaker = null)
    {
        var provider = new JsonObject
        {
            ["Kind"] = "OpenAICompatible",
            ["BaseUrl"] = Upstream.BaseUrlFor(tag),
            ["TimeoutSeconds"] = 10,
            ["Retries"] = retries,
            ["RetryDelayMs"] = 0,
        };
        if (breaker is { } b)
        {
            provider["CircuitBreaker"] = new JsonObject { ["FailureThreshold"] = b.Threshold, ["BreakSeconds"] = b.BreakSeconds };
        }

        return provider;
    }

    private static JsonObject Alias(string provider, string[]? fallbacks = null, string[]? contextWindowFallbacks = null) => new()
    {
        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = provider + "-model" }),
        ["Fallbacks"] = new JsonArray([.. (fallbacks ?? []).Select(f => (JsonNode)f)]),
        ["ContextWindowFallbacks"] = new JsonArray([.. (contextWindowFallbacks ?? []).Select(f => (JsonNode)f)]),
    };
}

[CollectionDefinition(Name)]
public sealed class ResilienceCollection : ICollectionFixture<ResilienceFixture>
{
    public const string Name = "resilience";
}
