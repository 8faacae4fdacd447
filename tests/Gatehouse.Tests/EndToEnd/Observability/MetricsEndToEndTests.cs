using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.EndToEnd.Observability;

/// <summary>
/// <c>GET /metrics</c> of a real silo after known traffic: every counter and histogram moved by exactly what was sent.
/// Alias <c>sim</c> (Simulated, $1 a token), alias <c>chain</c> whose only target refuses connections and falls back to
/// <c>sim</c>, app <c>metrics</c> without limits and app <c>tiny</c> with one request a minute.
/// </summary>
public sealed class MetricsEndToEndTests
{
    private const string Key = "gk-metrics-FAKE-key";
    private const string TinyKey = "gk-tiny-FAKE-key";

    private static readonly string Config = new JsonObject
    {
        ["Gatehouse"] = new JsonObject
        {
            ["Providers"] = new JsonObject
            {
                ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["LatencyMs"] = 0 },
                ["down"] = new JsonObject
                {
                    ["Kind"] = "OpenAICompatible", ["BaseUrl"] = "http://127.0.0.1:1/v1",
                    ["CircuitBreaker"] = new JsonObject { ["FailureThreshold"] = 1000 },
                },
            },
            ["Models"] = new JsonObject
            {
                ["sim"] = new JsonObject
                {
                    ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-1" }),
                    ["Pricing"] = new JsonObject { ["InputPerMillion"] = 1_000_000, ["OutputPerMillion"] = 1_000_000 },
                },
                ["chain"] = new JsonObject
                {
                    ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "down", ["Model"] = "down-1" }),
                    ["Fallbacks"] = new JsonArray("sim"),
                },
            },
            ["Apps"] = new JsonObject
            {
                ["metrics"] = new JsonObject { ["Keys"] = new JsonArray(Key) },
                ["tiny"] = new JsonObject { ["Keys"] = new JsonArray(TinyKey), ["RequestsPerMinute"] = 1 },
            },
        },
    }.ToJsonString();

    [Fact]
    public async Task Scrape_AfterKnownTraffic_CountersAndHistogramsMovedByExactlyWhatWasSent()
    {
        await using var silo = await SiloProcess.StartAsync(Config);
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };
        var billed = (Prompt: 0L, Completion: 0L, ChainPrompt: 0L, ChainCompletion: 0L);

        async Task<JsonNode> ChatAsync(string key, string model, string text, bool deterministic = false, bool stream = false, HttpStatusCode expected = HttpStatusCode.OK)
        {
            var body = new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }) };
            if (deterministic)
            {
                body["temperature"] = 0;
            }

            if (stream)
            {
                (body["stream"], body["stream_options"]) = (true, new JsonObject { ["include_usage"] = true });
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request);
            var text2 = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{model}: {(int)response.StatusCode} {text2}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return JsonNode.Parse(text2)!;
            }

            var usage = stream
                ? text2.Split('\n').Where(l => l.StartsWith("data: {")).Select(l => JsonNode.Parse(l[6..])!).Last(c => c["usage"] is JsonObject)["usage"]!
                : JsonNode.Parse(text2)!["usage"]!;
            if (response.Headers.GetValues("x-gatehouse-cache").Single() != "hit" && key == Key)
            {
                var (prompt, completion) = (usage["prompt_tokens"]!.GetValue<long>(), usage["completion_tokens"]!.GetValue<long>());
                billed = model == "chain"
                    ? billed with { ChainPrompt = billed.ChainPrompt + prompt, ChainCompletion = billed.ChainCompletion + completion }
                    : billed with { Prompt = billed.Prompt + prompt, Completion = billed.Completion + completion };
            }

            return usage;
        }

        for (var i = 0; i < 4; i++)
        {
            await ChatAsync(Key, "sim", "the same question", deterministic: true);
        }

        await ChatAsync(Key, "chain", "falls back 1");
        await ChatAsync(Key, "chain", "falls back 2");
        for (var i = 0; i < 4; i++)
        {
            await ChatAsync(Key, "sim", $"bypass {i}");
        }

        await ChatAsync(Key, "sim", "streamed", stream: true);
        await ChatAsync(TinyKey, "sim", "first of the minute");
        await ChatAsync(TinyKey, "sim", "second of the minute", expected: HttpStatusCode.TooManyRequests);

        var scrape = await http.GetStringAsync("/metrics");
        double Value(string name, params (string Label, string Value)[] labels)
        {
            var matches = scrape.Split('\n')
                .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(p => l.Contains($"{p.Label}=\"{p.Value}\"", StringComparison.Ordinal)))
                .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
                .ToList();
            return matches.Sum();
        }

        Assert.Equal(9, Value("gatehouse_requests_total", ("app", "metrics"), ("alias", "sim"), ("api", "chat_completions"), ("outcome", "ok")));
        Assert.Equal(2, Value("gatehouse_requests_total", ("app", "metrics"), ("alias", "chain"), ("outcome", "ok")));
        Assert.Equal((1, 1), (Value("gatehouse_requests_total", ("app", "tiny"), ("outcome", "ok")), Value("gatehouse_requests_total", ("app", "tiny"), ("outcome", "rate_limited"))));
        Assert.Equal(1, Value("gatehouse_rate_limited_total", ("scope", "app")));
        Assert.Equal((3, 1, 7), (Value("gatehouse_cache_requests_total", ("app", "metrics"), ("result", "hit")),
            Value("gatehouse_cache_requests_total", ("app", "metrics"), ("result", "miss")), Value("gatehouse_cache_requests_total", ("app", "metrics"), ("result", "bypass"))));
        Assert.Equal(2, Value("gatehouse_fallbacks_total", ("alias", "chain")));
        Assert.Equal(2, Value("gatehouse_upstream_requests_total", ("provider", "down"), ("outcome", "upstream_failed")));
        Assert.Equal(9, Value("gatehouse_upstream_requests_total", ("provider", "sim"), ("model", "sim-1"), ("outcome", "ok")));
        Assert.Equal((billed.Prompt, billed.Completion), ((long)Value("gatehouse_tokens_total", ("app", "metrics"), ("alias", "sim"), ("type", "prompt")),
            (long)Value("gatehouse_tokens_total", ("app", "metrics"), ("alias", "sim"), ("type", "completion"))));
        Assert.Equal((billed.ChainPrompt, billed.ChainCompletion), ((long)Value("gatehouse_tokens_total", ("app", "metrics"), ("alias", "chain"), ("type", "prompt")),
            (long)Value("gatehouse_tokens_total", ("app", "metrics"), ("alias", "chain"), ("type", "completion"))));
        // A dollar a token.
        Assert.Equal(billed.Prompt + billed.Completion, Value("gatehouse_cost_usd_total", ("app", "metrics"), ("alias", "sim")), 6);
        Assert.Equal(9, Value("gatehouse_request_duration_seconds_count", ("app", "metrics"), ("alias", "sim"), ("outcome", "ok")));
        Assert.Equal(1, Value("gatehouse_time_to_first_token_seconds_count", ("app", "metrics"), ("alias", "sim")));
        Assert.Equal(9 + 2, Value("gatehouse_upstream_duration_seconds_count", ("provider", "sim")) + Value("gatehouse_upstream_duration_seconds_count", ("provider", "down")));
        Assert.Equal((0, 0), (Value("gatehouse_circuit_state", ("provider", "sim")), Value("gatehouse_upstream_in_flight", ("provider", "sim"))));
        Assert.Contains("\norleans_", scrape);
        Assert.DoesNotContain(Key, scrape);
        Assert.DoesNotContain(TinyKey, scrape);
    }
}
