using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using OpenAI;
using OpenAI.Chat;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>App quotas through the official OpenAI SDK against the real silo process: 429 with retry-after and the x-ratelimit-* headers.</summary>
[Collection(QuotaCollection.Name)]
public sealed class QuotaEndToEndTests(QuotaFixture fixture)
{
    private ChatClient Chat(string key, int? maxWaitMs = null)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(fixture.ApiBase), RetryPolicy = new ClientRetryPolicy(0) };
        if (maxWaitMs is { } wait)
        {
            options.AddPolicy(new HeaderPolicy("x-gatehouse-max-wait-ms", wait.ToString(CultureInfo.InvariantCulture)), PipelinePosition.PerCall);
        }

        return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient("gpt-quota");
    }

    private static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value : null;

    [Fact]
    public async Task CompleteChat_AppQuotaExhausted_Answers429WithRetryAfterAndRateLimitHeaders()
    {
        // A fresh quota authority grants nothing for one window (3 s here), so the first call may wait for it.
        ClientResult<ChatCompletion> first = await Chat(QuotaFixture.MeteredKey, maxWaitMs: 10_000).CompleteChatAsync([new UserChatMessage("first")]);
        var ok = first.GetRawResponse();

        Assert.Equal("20", Header(ok, "x-ratelimit-limit-requests"));
        Assert.InRange(int.Parse(Header(ok, "x-ratelimit-remaining-requests")!, CultureInfo.InvariantCulture), 0, 19);
        Assert.Equal("10000", Header(ok, "x-ratelimit-limit-tokens"));
        Assert.InRange(int.Parse(Header(ok, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture), 0, 9_999);

        // One request per 3 s window and no waiting by default: the next call is refused at once.
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat(QuotaFixture.MeteredKey).CompleteChatAsync([new UserChatMessage("second")]));
        var refused = error.GetRawResponse()!;

        Assert.Equal(429, error.Status);
        Assert.InRange(int.Parse(Header(refused, "retry-after")!, CultureInfo.InvariantCulture), 1, 3);
        Assert.Equal("20", Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("10000", Header(refused, "x-ratelimit-limit-tokens"));
        Assert.NotNull(Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Contains("rate_limit_exceeded", refused.Content.ToString());
    }

    [Fact]
    public async Task CompleteChat_AppWithoutLimits_HasNoRateLimitHeaders()
    {
        ClientResult<ChatCompletion> result = await Chat(QuotaFixture.OpenKey).CompleteChatAsync([new UserChatMessage("hello")]);

        Assert.Null(Header(result.GetRawResponse(), "x-ratelimit-limit-requests"));
        Assert.Null(Header(result.GetRawResponse(), "x-ratelimit-limit-tokens"));
    }

    private sealed class HeaderPolicy(string name, string value) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set(name, value);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set(name, value);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }
    }
}

/// <summary>The Anthropic front end carries the same quota headers as the OpenAI one.</summary>
[Collection(QuotaCollection.Name)]
public sealed class AnthropicQuotaEndToEndTests(QuotaFixture fixture)
{
    [Fact]
    public async Task Messages_AppWithLimits_CarriesRateLimitHeaders()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + "/v1/messages")
        {
            Content = new StringContent("""{"model":"gpt-quota","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", QuotaFixture.MeteredKey);
        // One request per 3 s window for this app: wait for the next one rather than be refused.
        request.Headers.Add("x-gatehouse-max-wait-ms", "10000");

        using var response = await http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("20", response.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("10000", response.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.InRange(int.Parse(response.Headers.GetValues("x-ratelimit-remaining-requests").Single(), CultureInfo.InvariantCulture), 0, 19);
    }
}
