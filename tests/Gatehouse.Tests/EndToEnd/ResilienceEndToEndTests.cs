using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>Fallbacks, retries and circuit breakers of the real silo process against fault-injecting upstreams.</summary>
[Collection(ResilienceCollection.Name)]
public sealed class ResilienceEndToEndTests(ResilienceFixture fixture) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Complete_PrimaryAlwaysFails_EveryRequestAnsweredByFallbackAndCircuitStopsPrimaryCalls()
    {
        var spareBefore = fixture.Upstream.RequestCountFor("spare");

        for (var i = 0; i < 12; i++)
        {
            var answer = await SendAsync("always-down", $"request {i}");
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.Equal("spare", answer.Provider);
        }

        // FailureThreshold is 5: the sixth request onwards skips the primary.
        Assert.Equal(5, fixture.Upstream.RequestCountFor("down"));
        Assert.Equal(spareBefore + 12, fixture.Upstream.RequestCountFor("spare"));
    }

    [Fact]
    public async Task Complete_PrimaryFailsEveryThirdCall_AllSucceedThroughFallback()
    {
        var spareBefore = fixture.Upstream.RequestCountFor("spare");
        var providers = new List<string>();

        for (var i = 0; i < 30; i++)
        {
            var answer = await SendAsync("mostly-no-retry", $"request {i}");
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            providers.Add(answer.Provider!);
        }

        Assert.Equal(20, providers.Count(p => p == "thirds-b"));
        Assert.Equal(10, providers.Count(p => p == "spare"));
        Assert.Equal(30, fixture.Upstream.RequestCountFor("thirds-b"));
        Assert.Equal(spareBefore + 10, fixture.Upstream.RequestCountFor("spare"));
    }

    [Fact]
    public async Task Complete_PrimaryFailsEveryThirdCallWithOneRetry_AllAnsweredByPrimary()
    {
        var spareBefore = fixture.Upstream.RequestCountFor("spare");
        var retried = 0;

        for (var i = 0; i < 30; i++)
        {
            var answer = await SendAsync("mostly", $"request {i}");
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.Equal("thirds", answer.Provider);
            retried += answer.Attempts == 2 ? 1 : 0;
        }

        // Arrivals 3, 6, ..., 42 fail and each retry (the next arrival) succeeds: 44 arrivals serve 30 requests.
        Assert.Equal(14, retried);
        Assert.Equal(44, fixture.Upstream.RequestCountFor("thirds"));
        Assert.Equal(spareBefore, fixture.Upstream.RequestCountFor("spare"));
    }

    [Fact]
    public async Task Complete_PrimaryDownThenUp_CircuitOpensThenOneProbeClosesIt()
    {
        fixture.PhoenixUp = false;

        // FailureThreshold 3: three failures, each answered by the fallback, open the circuit.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("spare", (await SendAsync("phoenix", "while down")).Provider);
        }

        Assert.Equal(3, fixture.Upstream.RequestCountFor("phoenix"));

        // Open (BreakSeconds 2): the primary gets no calls at all.
        for (var i = 0; i < 3; i++)
        {
            var answer = await SendAsync("phoenix", "while open");
            Assert.Equal("spare", answer.Provider);
            Assert.Equal(1, answer.Attempts);
        }

        Assert.Equal(3, fixture.Upstream.RequestCountFor("phoenix"));

        // Back up. An alias with no other target waits (x-gatehouse-max-wait-ms) for the break to end, and its
        // request is the single probe that closes the circuit.
        fixture.PhoenixUp = true;
        var probe = await SendAsync("phoenix-solo", "probe", maxWaitMs: 15_000);
        Assert.Equal(HttpStatusCode.OK, probe.Status);
        Assert.Equal("phoenix", probe.Provider);
        Assert.Equal(4, fixture.Upstream.RequestCountFor("phoenix"));

        for (var i = 0; i < 3; i++)
        {
            var answer = await SendAsync("phoenix", "closed again");
            Assert.Equal("phoenix", answer.Provider);
            Assert.Equal(1, answer.Attempts);
        }

        Assert.Equal(7, fixture.Upstream.RequestCountFor("phoenix"));
    }

    [Fact]
    public async Task Complete_UpstreamAnswers400_IsNotRetriedNorFallenBack()
    {
        var spareBefore = fixture.Upstream.RequestCountFor("spare");
        var rejectsBefore = fixture.Upstream.RequestCountFor("rejects");

        var answer = await SendAsync("strict", "bad request");

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal(rejectsBefore + 1, fixture.Upstream.RequestCountFor("rejects"));
        Assert.Equal(spareBefore, fixture.Upstream.RequestCountFor("spare"));
    }

    [Fact]
    public async Task Complete_PromptTooLong_AnsweredByContextWindowFallback()
    {
        var spareBefore = fixture.Upstream.RequestCountFor("spare");

        var answer = await SendAsync("small-ctx", "a long story");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("large", answer.Provider);
        Assert.Equal(2, answer.Attempts);
        Assert.Equal(spareBefore, fixture.Upstream.RequestCountFor("spare"));
    }

    [Fact]
    public async Task Complete_EveryCircuitOpenBeyondMaxWait_Is503NamingOpenCircuits()
    {
        var first = await SendAsync("doomed", "first");
        Assert.Equal(HttpStatusCode.BadGateway, first.Status);

        var second = await SendAsync("doomed", "second", maxWaitMs: 0);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.Status);
        var error = JsonNode.Parse(second.Body)!["error"]!;
        Assert.Equal("no_target_available", error["code"]!.GetValue<string>());
        Assert.Contains("all circuits are open", error["message"]!.GetValue<string>());
        Assert.Contains("gone/gone-model", error["message"]!.GetValue<string>());
        Assert.Equal(1, fixture.Upstream.RequestCountFor("gone"));
    }

    [Fact]
    public async Task Complete_MaxWaitHeaderNotANumber_Is400()
    {
        var answer = await SendAsync("spare", "hi", maxWaitHeader: "soon");

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("x-gatehouse-max-wait-ms", JsonNode.Parse(answer.Body)!["error"]!["param"]!.GetValue<string>());
    }

    private async Task<Answer> SendAsync(string model, string text, int? maxWaitMs = null, string? maxWaitHeader = null)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ResilienceFixture.AppKey);
        if ((maxWaitHeader ?? maxWaitMs?.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } wait)
        {
            request.Headers.Add("x-gatehouse-max-wait-ms", wait);
        }

        using var response = await _http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        return new Answer(
            response.StatusCode,
            response.Headers.TryGetValues("x-gatehouse-provider", out var provider) ? provider.Single() : null,
            response.Headers.TryGetValues("x-gatehouse-attempts", out var attempts) ? int.Parse(attempts.Single(), System.Globalization.CultureInfo.InvariantCulture) : 0,
            content);
    }

    private sealed record Answer(HttpStatusCode Status, string? Provider, int Attempts, string Body);
}
