using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>The official OpenAI .NET SDK against the real silo process, in front of real HTTP upstream doubles.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAIApiEndToEndTests(GatewayFixture fixture)
{
    private OpenAIClient Sdk(string key = GatewayFixture.MainKey) => new(
        new ApiKeyCredential(key),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.ApiBase), RetryPolicy = new ClientRetryPolicy(0) });

    private ChatClient Chat(string model, string key = GatewayFixture.MainKey) => Sdk(key).GetChatClient(model);

    private static string Header(ClientResult result, string name) =>
        result.GetRawResponse().Headers.TryGetValue(name, out var value) ? value! : "";

    [Fact]
    public async Task CompleteChat_OpenAIUpstream_AnswersWithUpstreamUsageAndRouteHeaders()
    {
        var before = fixture.Upstream.RequestCountFor("main");

        ClientResult<ChatCompletion> result = await Chat("gpt-test").CompleteChatAsync(
            [new SystemChatMessage("be brief"), new UserChatMessage("hello gateway")],
            new ChatCompletionOptions { Temperature = 0.2f, MaxOutputTokenCount = 50 });

        ChatCompletion completion = result.Value;
        Assert.Equal("echo: hello gateway", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        Assert.Equal(7, completion.Usage.OutputTokenCount);
        Assert.Equal("openai-main", Header(result, "x-gatehouse-provider"));
        Assert.Equal("gpt-4o-mini", Header(result, "x-gatehouse-model"));
        Assert.Equal("1", Header(result, "x-gatehouse-attempts"));

        Assert.Equal(before + 1, fixture.Upstream.RequestCountFor("main"));
        var sent = fixture.Upstream.Requests.Last(r => r.Tag == "main");
        Assert.Equal("gpt-4o-mini", sent.Model);
        Assert.Equal("Bearer " + GatewayFixture.ProviderKey, sent.Header("authorization"));
        Assert.Equal("system", sent.Json!["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal(0.2, sent.Json!["temperature"]!.GetValue<double>(), 3);
        Assert.DoesNotContain(GatewayFixture.ProviderKey, result.GetRawResponse().Content.ToString());
        Assert.DoesNotContain(GatewayFixture.ProviderKey, fixture.Silo.Output);
    }

    [Fact]
    public async Task CompleteChatStreaming_OpenAIUpstream_StreamsTextThenUsage()
    {
        var before = fixture.Upstream.RequestCountFor("main");
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Chat("gpt-test").CompleteChatStreamingAsync([new UserChatMessage("stream this please")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal("echo: stream this please", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(11, usage.InputTokenCount);
        Assert.Equal(7, usage.OutputTokenCount);
        Assert.Equal(before + 1, fixture.Upstream.RequestCountFor("main"));
        Assert.True(fixture.Upstream.Requests.Last(r => r.Tag == "main").IncludeUsage);
    }

    [Fact]
    public async Task GetModels_ListsOnlyTheAliasesTheAppMayUse()
    {
        var all = (await Sdk().GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();
        var limited = (await Sdk(GatewayFixture.LimitedKey).GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();

        Assert.Equal(["backup", "busy", "dead", "gpt-test", "slow", "unreachable", "with-fallback"], all);
        Assert.Equal(["backup"], limited);
    }

    [Fact]
    public async Task CompleteChat_PrimaryFails_FallbackAnswersAndUpstreamCountsProveIt()
    {
        var flakyBefore = fixture.Upstream.RequestCountFor("flaky");
        var healthyBefore = fixture.Upstream.RequestCountFor("healthy");

        var result = await Chat("with-fallback").CompleteChatAsync([new UserChatMessage("are you there")]);

        Assert.Equal("echo: are you there", result.Value.Content[0].Text);
        Assert.Equal("healthy", Header(result, "x-gatehouse-provider"));
        Assert.Equal("healthy-model", Header(result, "x-gatehouse-model"));
        Assert.Equal("2", Header(result, "x-gatehouse-attempts"));
        Assert.Equal(flakyBefore + 1, fixture.Upstream.RequestCountFor("flaky"));
        Assert.Equal(healthyBefore + 1, fixture.Upstream.RequestCountFor("healthy"));
    }

    [Fact]
    public async Task CompleteChatStreaming_PrimaryFails_FallbackStreams()
    {
        var flakyBefore = fixture.Upstream.RequestCountFor("flaky");
        var healthyBefore = fixture.Upstream.RequestCountFor("healthy");
        var text = new StringBuilder();

        await foreach (var update in Chat("with-fallback").CompleteChatStreamingAsync([new UserChatMessage("stream fallback")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("echo: stream fallback", text.ToString());
        Assert.Equal(flakyBefore + 1, fixture.Upstream.RequestCountFor("flaky"));
        Assert.Equal(healthyBefore + 1, fixture.Upstream.RequestCountFor("healthy"));
    }

    [Fact]
    public async Task CompleteChat_WrongKey_Is401InOpenAIEnvelope()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gpt-test", "gk-wrong").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        AssertEnvelope(error, "invalid_request_error", "invalid_api_key");
    }

    [Fact]
    public async Task CompleteChat_ModelNotAllowedForApp_Is403()
    {
        var before = fixture.Upstream.RequestCount;

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gpt-test", GatewayFixture.LimitedKey).CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(403, error.Status);
        AssertEnvelope(error, "permission_error", "model_not_allowed");
        Assert.Equal(before, fixture.Upstream.RequestCount);
    }

    [Fact]
    public async Task CompleteChat_UnknownAlias_Is404()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("no-such-model").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, error.Status);
        AssertEnvelope(error, "invalid_request_error", "model_not_found");
    }

    [Fact]
    public async Task CompleteChat_InvalidField_Is400NamingTheField()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gpt-test").CompleteChatAsync(
            [new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = 7f }));

        Assert.Equal(400, error.Status);
        var body = AssertEnvelope(error, "invalid_request_error", null);
        Assert.Equal("temperature", body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Post_MalformedJson_Is400()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.ApiBase + "/chat/completions")
        {
            Content = new StringContent("{\"model\": \"gpt-test\", \"messages\": [", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", GatewayFixture.MainKey);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_Is413()
    {
        var huge = new string('a', GatewayFixture.MaxBodyBytes * 2);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.ApiBase + "/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-test","messages":[{"role":"user","content":"{{huge}}"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", GatewayFixture.MainKey);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("request_too_large", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task CompleteChat_EveryTargetFails_Is502SayingWhatWasTried()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("dead").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(502, error.Status);
        var message = AssertEnvelope(error, "api_error", "upstream_error").GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("flaky/flaky-model: failed (HTTP 500)", message);
        Assert.Contains("down/down-model (fallback): failed", message);
    }

    [Fact]
    public async Task CompleteChat_EveryTargetOverloaded_Is503()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("busy").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(503, error.Status);
        AssertEnvelope(error, "api_error", "no_target_available");
    }

    [Fact]
    public async Task CompleteChat_UpstreamSlowerThanItsTimeout_Is504()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("slow").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(504, error.Status);
        AssertEnvelope(error, "api_error", "upstream_timeout");
    }

    private static JsonElement AssertEnvelope(ClientResultException error, string type, string? code)
    {
        var response = error.GetRawResponse()!;
        Assert.StartsWith("application/json", response.Headers.TryGetValue("Content-Type", out var contentType) ? contentType : "");
        using var document = JsonDocument.Parse(response.Content.ToString());
        var root = document.RootElement.Clone();
        var inner = root.GetProperty("error");
        Assert.Equal(type, inner.GetProperty("type").GetString());
        Assert.Equal(code, inner.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(inner.GetProperty("message").GetString()));
        Assert.DoesNotContain("   at ", response.Content.ToString());
        return root;
    }
}
