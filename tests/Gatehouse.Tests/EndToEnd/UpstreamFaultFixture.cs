using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process, response cache on, in front of one provider of each adapter kind (<c>openai</c>,
/// <c>compat</c>, <c>anthropic</c>, <c>ollama</c>) and a healthy <c>spare</c>. The prompt picks the upstream's
/// behaviour: <c>fault=&lt;UpstreamFault&gt;</c> plays that broken 200 answer; <c>quote-key</c> makes the upstream
/// reject the request with a 400 that quotes the credential header it received, <c>quote-context</c> the same as a
/// context-length error, <c>quote-in-stream</c> the same in an error event after the stream started (a 200 error
/// envelope when not streaming), and <c>quote-other</c> a 400 that quotes another provider's key by value.
/// </summary>
/// <remarks>
/// Aliases: each provider's name (no fallback), <c>&lt;provider&gt;-fallback</c> (falls back to <c>spare</c>), and
/// <c>brittle</c>, whose provider's circuit opens after <see cref="BrittleThreshold"/> failures. The other circuits
/// never open during a run, so every failed call reaches its upstream.
/// </remarks>
public sealed partial class UpstreamFaultFixture : IAsyncLifetime
{
    public const string AppKey = "gk-e2e-faults";
    public const int MaxResponseBytes = 64 * 1024;
    public const int FaultBytes = 4 * MaxResponseBytes;
    public const int BrittleThreshold = 2;

    /// <summary>Provider keys in no vendor's format, so that only redaction by value can catch them.</summary>
    public static readonly IReadOnlyDictionary<string, string> ProviderKeys = new Dictionary<string, string>
    {
        ["openai"] = "e2e-openai-key-6c1f0a9b7d3e",
        ["compat"] = "e2e-compat-key-2b8e4d6f1a0c",
        ["anthropic"] = "e2e-anthropic-key-9d7c5b3a1e2f",
        ["ollama"] = "e2e-ollama-key-4a6b8c0d2e1f",
    };

    public static readonly IReadOnlyList<string> Providers = ["openai", "compat", "anthropic", "ollama"];

    public OpenAIUpstreamDouble OpenAI { get; private set; } = null!;

    public AnthropicUpstreamDouble Anthropic { get; private set; } = null!;

    public OllamaUpstreamDouble Ollama { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    /// <summary>How many requests with this last user message reached the upstream of <paramref name="provider"/>.</summary>
    public int UpstreamCalls(string provider, string prompt) => provider switch
    {
        "anthropic" => Anthropic.Requests.Count(r => r.LastUserText == prompt),
        "ollama" => Ollama.Requests.Count(r => r.LastUserText == prompt),
        _ => OpenAI.Requests.Count(r => r.Tag == provider && r.LastUserText == prompt),
    };

    public async Task InitializeAsync()
    {
        OpenAI = await OpenAIUpstreamDouble.StartAsync();
        OpenAI.Behavior = request => request.Tag == "spare" ? null : Reply(request, quoted => UpstreamReply.BadRequest(quoted, null),
            quoted => UpstreamReply.ContextLengthExceeded() with
            {
                Body = new JsonObject
                {
                    ["error"] = new JsonObject
                    {
                        ["message"] = "This model's maximum context length is 128000 tokens; " + quoted,
                        ["type"] = "invalid_request_error",
                        ["param"] = "messages",
                        ["code"] = "context_length_exceeded",
                    },
                }.ToJsonString(),
            });
        Anthropic = await AnthropicUpstreamDouble.StartAsync();
        Anthropic.Behavior = request => Reply(request, AnthropicReplies.BadRequest, quoted => AnthropicReplies.BadRequest("prompt is too long: " + quoted));
        Ollama = await OllamaUpstreamDouble.StartAsync();
        Ollama.Behavior = request => Reply(request, quoted => OllamaUpstreamDouble.Error(400, quoted), quoted => OllamaUpstreamDouble.Error(400, quoted));

        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    ["openai"] = Provider("OpenAI", OpenAI.BaseUrlFor("openai"), "env:E2E_FAULT_OPENAI_KEY"),
                    ["compat"] = Provider("OpenAICompatible", OpenAI.BaseUrlFor("compat"), "env:E2E_FAULT_COMPAT_KEY"),
                    ["anthropic"] = Provider("Anthropic", Anthropic.BaseUrl, "env:E2E_FAULT_ANTHROPIC_KEY"),
                    ["ollama"] = Provider("Ollama", Ollama.BaseUrl, "env:E2E_FAULT_OLLAMA_KEY"),
                    ["spare"] = Provider("OpenAICompatible", OpenAI.BaseUrlFor("spare"), null),
                    ["brittle"] = Provider("OpenAICompatible", OpenAI.BaseUrlFor("brittle"), null, failureThreshold: BrittleThreshold),
                },
                ["Models"] = new JsonObject
                {
                    ["openai"] = Alias("openai"),
                    ["compat"] = Alias("compat"),
                    ["anthropic"] = Alias("anthropic"),
                    ["ollama"] = Alias("ollama"),
                    ["openai-fallback"] = Alias("openai", "spare"),
                    ["compat-fallback"] = Alias("compat", "spare"),
                    ["anthropic-fallback"] = Alias("anthropic", "spare"),
                    ["ollama-fallback"] = Alias("ollama", "spare"),
                    ["brittle"] = Alias("brittle", "spare"),
                    ["spare"] = Alias("spare"),
                },
                ["Apps"] = new JsonObject
                {
                    ["faults"] = new JsonObject { ["Keys"] = new JsonArray(AppKey) },
                },
                ["Cache"] = new JsonObject { ["Enabled"] = true, ["TtlSeconds"] = 600 },
            },
        };

        Silo = await SiloProcess.StartAsync(config.ToJsonString(), new Dictionary<string, string>
        {
            ["E2E_FAULT_OPENAI_KEY"] = ProviderKeys["openai"],
            ["E2E_FAULT_COMPAT_KEY"] = ProviderKeys["compat"],
            ["E2E_FAULT_ANTHROPIC_KEY"] = ProviderKeys["anthropic"],
            ["E2E_FAULT_OLLAMA_KEY"] = ProviderKeys["ollama"],
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

        if (Ollama is not null)
        {
            await Ollama.DisposeAsync();
        }
    }

    /// <summary>The reply the prompt asks for; null (the healthy answer) when it asks for none.</summary>
    private static UpstreamReply? Reply(RecordedRequest request, Func<string, UpstreamReply> badRequest, Func<string, UpstreamReply> contextTooLong)
    {
        var prompt = request.LastUserText;
        if (FaultPattern().Match(prompt) is { Success: true } fault)
        {
            return new UpstreamReply { Fault = Enum.Parse<UpstreamFault>(fault.Groups[1].Value), FaultBytes = FaultBytes };
        }

        // What a careless upstream quotes back: the header the key came in, as it arrived.
        var credential = request.Header("x-api-key") is { } apiKey ? "x-api-key: " + apiKey : request.Header("Authorization") ?? "(none)";
        if (prompt.StartsWith("quote-key", StringComparison.Ordinal))
        {
            return badRequest($"Bad request; your header was '{credential}'");
        }

        if (prompt.StartsWith("quote-context", StringComparison.Ordinal))
        {
            return contextTooLong($"your header was '{credential}'");
        }

        if (prompt.StartsWith("quote-in-stream", StringComparison.Ordinal))
        {
            return new UpstreamReply { Fault = UpstreamFault.ErrorEventMidStream, Text = $"your header was '{credential}'" };
        }

        if (prompt.StartsWith("quote-other", StringComparison.Ordinal))
        {
            return badRequest($"this deployment also knows the key {ProviderKeys["anthropic"]} and {ProviderKeys["openai"]}");
        }

        return null;
    }

    [GeneratedRegex(@"^fault=(\w+)")]
    private static partial Regex FaultPattern();

    private static JsonObject Provider(string kind, string baseUrl, string? apiKey, int failureThreshold = 1000)
    {
        var provider = new JsonObject
        {
            ["Kind"] = kind,
            ["BaseUrl"] = baseUrl,
            ["TimeoutSeconds"] = 10,
            ["MaxResponseBytes"] = MaxResponseBytes,
            ["CircuitBreaker"] = new JsonObject { ["FailureThreshold"] = failureThreshold, ["BreakSeconds"] = 600 },
        };
        if (apiKey is not null)
        {
            provider["ApiKey"] = apiKey;
        }

        return provider;
    }

    private static JsonObject Alias(string provider, string? fallback = null) => new()
    {
        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = provider + "-model" }),
        ["Fallbacks"] = fallback is null ? new JsonArray() : new JsonArray(fallback),
    };
}

[CollectionDefinition(Name)]
public sealed class UpstreamFaultCollection : ICollectionFixture<UpstreamFaultFixture>
{
    public const string Name = "upstream-faults";
}
