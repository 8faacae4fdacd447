using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// App and upstream quotas through the official OpenAI SDK against the real silo process: a full bucket admits its
/// whole burst at once, the next request is a 429 with retry-after, and the x-ratelimit-* headers. No warm-up and
/// no waiting (<c>DefaultMaxWaitMs: 0</c>); each test has its own app, so any order (or running alone) works.
/// </summary>
[Collection(QuotaCollection.Name)]
public sealed class QuotaEndToEndTests(QuotaFixture fixture)
{
    [Fact]
    public async Task CompleteChat_AppRequestsPerMinuteFive_AdmitsFiveAtOnceAndRefusesTheSixthWithRetryAfter()
    {
        var chat = QuotaClients.Chat(fixture.ApiBase, QuotaFixture.AppBurstKey, QuotaFixture.AppBurstModel);
        var sent = System.Diagnostics.Stopwatch.StartNew();

        var admitted = await QuotaClients.AllAdmittedAsync(Enumerable.Range(1, 5).Select(i => chat.CompleteChatAsync([new UserChatMessage($"app burst {i}")])));

        foreach (var ok in admitted)
        {
            Assert.Equal("5", QuotaClients.Header(ok, "x-ratelimit-limit-requests"));
            Assert.InRange(QuotaClients.IntHeader(ok, "x-ratelimit-remaining-requests"), 0, 4);
            Assert.Equal("10000", QuotaClients.Header(ok, "x-ratelimit-limit-tokens"));
            Assert.InRange(QuotaClients.IntHeader(ok, "x-ratelimit-remaining-tokens"), 0, 9_999);
        }

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("app burst 6")]));
        var refused = error.GetRawResponse()!;

        var refusedAfter = sent.Elapsed;

        Assert.Equal(429, error.Status);
        // Each of the 5 units counts for the 60 s after the end of the 1-second slot it was leased in: the first is
        // free again at most 61 s after the burst was sent, and no sooner than 60 s after, less the time the refusal
        // took to come (long on a loaded machine), rounded down to whole seconds as retry-after is.
        Assert.InRange(QuotaClients.IntHeader(refused, "retry-after"), (int)Math.Floor(60 - refusedAfter.TotalSeconds) - 1, 61);
        Assert.Equal("5", QuotaClients.Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("0", QuotaClients.Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Equal("10000", QuotaClients.Header(refused, "x-ratelimit-limit-tokens"));
        Assert.NotNull(QuotaClients.Header(refused, "x-ratelimit-remaining-tokens"));
        QuotaClients.AssertOpenAIError(refused, "rate_limit_error", "rate_limit_exceeded");
        Assert.Equal(5, fixture.Upstream.RequestCountFor(QuotaFixture.AppBurstTag));
    }

    [Fact]
    public async Task CompleteChat_UpstreamRequestsPerMinuteFive_AdmitsFiveAtOnceAndRefusesTheSixthAsEveryTargetRateLimited()
    {
        var chat = QuotaClients.Chat(fixture.ApiBase, QuotaFixture.UpstreamBurstKey, QuotaFixture.UpstreamBurstModel);

        var admitted = await QuotaClients.AllAdmittedAsync(Enumerable.Range(1, 5).Select(i => chat.CompleteChatAsync([new UserChatMessage($"upstream burst {i}")])));

        // The app has no limits of its own: the upstream's bucket is not reported in the x-ratelimit-* headers.
        Assert.All(admitted, ok => Assert.Null(QuotaClients.Header(ok, "x-ratelimit-limit-requests")));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("upstream burst 6")]));
        var refused = error.GetRawResponse()!;

        Assert.Equal(429, error.Status);
        // A unit counts for the 60 s after its one-second slot ends, and one granted near a slot's end is granted for the
        // next slot: the wait is at most 62 s from the grant, rounded up to whole seconds in the header.
        Assert.InRange(QuotaClients.IntHeader(refused, "retry-after"), 55, 62);
        var message = QuotaClients.AssertOpenAIError(refused, "rate_limit_error", "rate_limit_exceeded");
        Assert.Contains($"Every target of model '{QuotaFixture.UpstreamBurstModel}' is rate limited", message);
        Assert.Equal(5, fixture.Upstream.RequestCountFor(QuotaFixture.UpstreamBurstTag));
    }

    [Fact]
    public async Task CompleteChat_BurstTwoOfSixtyPerMinute_AdmitsTwoAtOnceAndRefusesTheThirdForOneSecond()
    {
        var chat = QuotaClients.Chat(fixture.ApiBase, QuotaFixture.SmallBurstKey, QuotaFixture.SharedModel);

        var admitted = await QuotaClients.AllAdmittedAsync(Enumerable.Range(1, 2).Select(i => chat.CompleteChatAsync([new UserChatMessage($"small burst {i}")])));

        Assert.All(admitted, ok => Assert.Equal("60", QuotaClients.Header(ok, "x-ratelimit-limit-requests")));

        // The bucket refills at 60/60 = 1 unit a second: the third request, sent right away, is refused for 1 s.
        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("small burst 3")]));
        var refused = error.GetRawResponse()!;

        Assert.Equal(429, error.Status);
        Assert.Equal(1, QuotaClients.IntHeader(refused, "retry-after"));
        Assert.Equal("60", QuotaClients.Header(refused, "x-ratelimit-limit-requests"));
        QuotaClients.AssertOpenAIError(refused, "rate_limit_error", "rate_limit_exceeded");
    }

    [Fact]
    public async Task CompleteChat_AppWithoutLimits_HasNoRateLimitHeaders()
    {
        ClientResult<ChatCompletion> result = await QuotaClients.Chat(fixture.ApiBase, QuotaFixture.OpenKey, QuotaFixture.SharedModel)
            .CompleteChatAsync([new UserChatMessage("hello")]);

        Assert.Equal(200, result.GetRawResponse().Status);
        Assert.Null(QuotaClients.Header(result.GetRawResponse(), "x-ratelimit-limit-requests"));
        Assert.Null(QuotaClients.Header(result.GetRawResponse(), "x-ratelimit-remaining-requests"));
        Assert.Null(QuotaClients.Header(result.GetRawResponse(), "x-ratelimit-limit-tokens"));
        Assert.Null(QuotaClients.Header(result.GetRawResponse(), "x-ratelimit-remaining-tokens"));
    }
}

/// <summary>The Anthropic front end carries the same quota headers as the OpenAI one.</summary>
[Collection(QuotaCollection.Name)]
public sealed class AnthropicQuotaEndToEndTests(QuotaFixture fixture)
{
    [Fact]
    public async Task Messages_AppWithLimits_CarriesRateLimitHeaders()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + "/v1/messages")
        {
            Content = new StringContent(
                $$"""{"model":"{{QuotaFixture.SharedModel}}","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}""",
                System.Text.Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Add("x-api-key", QuotaFixture.MeteredKey);
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("20", response.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("10000", response.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.InRange(int.Parse(response.Headers.GetValues("x-ratelimit-remaining-requests").Single(), CultureInfo.InvariantCulture), 0, 19);
        Assert.InRange(int.Parse(response.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), CultureInfo.InvariantCulture), 0, 9_999);
    }
}

/// <summary>OpenAI SDK clients and header helpers shared by the quota end-to-end tests.</summary>
internal static class QuotaClients
{
    /// <summary>A chat client that does not retry (a 429 must reach the test) and needs no warm-up.</summary>
    public static ChatClient Chat(string apiBase, string key, string model, PipelinePolicy? perCall = null)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(apiBase),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        };
        if (perCall is not null)
        {
            options.AddPolicy(perCall, PipelinePosition.PerCall);
        }

        return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(model);
    }

    /// <summary>
    /// Awaits calls sent at once and asserts every one was answered 200; on failure the message lists every outcome
    /// (status, retry-after, error message), so a refused burst says how it was refused.
    /// </summary>
    public static async Task<IReadOnlyList<PipelineResponse>> AllAdmittedAsync<T>(IEnumerable<Task<ClientResult<T>>> calls)
    {
        var outcomes = await Task.WhenAll(calls.Select(async call =>
        {
            try
            {
                return (Response: (await call).GetRawResponse(), Error: (ClientResultException?)null);
            }
            catch (ClientResultException error)
            {
                return (Response: error.GetRawResponse()!, Error: error);
            }
        }));

        var described = string.Join("\n", outcomes.Select((o, i) =>
            $"  #{i + 1}: {o.Response.Status} retry-after={Header(o.Response, "retry-after") ?? "-"} {(o.Error is null ? "" : o.Response.Content.ToString())}"));
        Assert.True(outcomes.All(o => o.Response.Status == 200), $"expected every call sent at once to be admitted (200), got:\n{described}");
        return [.. outcomes.Select(o => o.Response)];
    }

    public static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value : null;

    public static int IntHeader(PipelineResponse response, string name)
    {
        var value = Header(response, name);
        Assert.True(value is not null, $"the response has no {name} header");
        Assert.True(int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number), $"{name} is not a whole number of seconds: '{value}'");
        return number;
    }

    /// <summary>Checks OpenAI's error envelope <c>{"error":{"message","type","param","code"}}</c> and returns its message.</summary>
    public static string AssertOpenAIError(PipelineResponse response, string type, string code)
    {
        var body = response.Content.ToString();
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.True(error.TryGetProperty("param", out _), "the error envelope has no param");
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain("   at ", body);
        return message!;
    }
}

/// <summary>Remembers the headers of the last response the pipeline received (streamed answers have no ClientResult to read them from).</summary>
internal sealed class ResponseHeaderCapture : PipelinePolicy
{
    private readonly object _gate = new();
    private Dictionary<string, string>? _headers;
    private int? _status;

    public int? Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    public string? Header(string name)
    {
        lock (_gate)
        {
            return _headers is not null && _headers.TryGetValue(name, out var value) ? value : null;
        }
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ProcessNext(message, pipeline, currentIndex);
        Capture(message);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
        Capture(message);
    }

    private void Capture(PipelineMessage message)
    {
        if (message.Response is not { } response)
        {
            return;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in response.Headers)
        {
            headers[name] = value;
        }

        lock (_gate)
        {
            _headers = headers;
            _status = response.Status;
        }
    }
}
