using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.OpenAI;
using Gatehouse.Tests.Doubles;
using Xunit;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.OpenAI;

public sealed class OpenAIChatGatewayTests : IAsyncLifetime
{
    private const string ProviderKey = "sk-test-provider-key-1234567890";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private OpenAIUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);

    public async Task InitializeAsync() => _upstream = await OpenAIUpstreamDouble.StartAsync(_testTimeout.Token);

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            (gateway as IDisposable)?.Dispose();
        }

        await _upstream.DisposeAsync();
        _testTimeout.Dispose();
    }

    [Fact]
    public async Task GetResponse_TextAnswer_MapsAnswerAndUsage()
    {
        _upstream.PromptTokens = 21;
        _upstream.CompletionTokens = 9;
        var gateway = CreateGateway();

        var response = await gateway.GetResponseAsync(Request("hello"), _testTimeout.Token);

        Assert.Equal("echo: hello", response.Message.Text);
        Assert.Equal(ChatRole.Assistant, response.Message.Role);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 21, CompletionTokens = 9 }, response.Usage);
        Assert.Equal("gpt-4o-2024-08-06", response.Model);
        Assert.StartsWith("chatcmpl-", response.Id);
        Assert.Equal("fp_double01", response.SystemFingerprint);
        Assert.True(response.Created > 0);
    }

    [Fact]
    public async Task GetResponse_AllOptions_SendsThemUpstream()
    {
        var gateway = CreateGateway();
        var request = Request("hi") with
        {
            Messages = [ChatMessage.FromText(ChatRole.System, "be brief"), ChatMessage.FromText(ChatRole.User, "hi")],
            Temperature = 0.25,
            TopP = 0.5,
            MaxTokens = 42,
            Stop = ["END", "STOP"],
            Seed = 7,
            PresencePenalty = 0.5,
            FrequencyPenalty = -0.5,
            User = "end-user-1",
            ParallelToolCalls = false,
            Tools = [new ToolDefinition { Name = "get_weather", Description = "Weather", ParametersJson = """{"type":"object","properties":{"city":{"type":"string"}}}""", Strict = true }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "get_weather" },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = """{"type":"object"}""", Strict = true },
        };

        await gateway.GetResponseAsync(request, _testTimeout.Token);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal($"Bearer {ProviderKey}", sent.Header("Authorization"));
        var json = sent.Json!;
        Assert.Equal("gpt-4o-2024-08-06", json["model"]!.GetValue<string>());
        Assert.Equal(0.25, json["temperature"]!.GetValue<double>(), 5);
        Assert.Equal(0.5, json["top_p"]!.GetValue<double>(), 5);
        Assert.Equal(42, json["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal(["END", "STOP"], json["stop"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(7, json["seed"]!.GetValue<long>());
        Assert.Equal(0.5, json["presence_penalty"]!.GetValue<double>(), 5);
        Assert.Equal(-0.5, json["frequency_penalty"]!.GetValue<double>(), 5);
        Assert.Equal("end-user-1", json["user"]!.GetValue<string>());
        Assert.False(json["parallel_tool_calls"]!.GetValue<bool>());
        Assert.Equal("system", json["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("be brief", json["messages"]![0]!["content"]!.GetValue<string>());
        var tool = json["tools"]![0]!;
        Assert.Equal("function", tool["type"]!.GetValue<string>());
        Assert.Equal("get_weather", tool["function"]!["name"]!.GetValue<string>());
        Assert.True(tool["function"]!["strict"]!.GetValue<bool>());
        Assert.Equal("string", tool["function"]!["parameters"]!["properties"]!["city"]!["type"]!.GetValue<string>());
        Assert.Equal("get_weather", json["tool_choice"]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("json_schema", json["response_format"]!["type"]!.GetValue<string>());
        Assert.Equal("answer", json["response_format"]!["json_schema"]!["name"]!.GetValue<string>());
        Assert.True(json["response_format"]!["json_schema"]!["strict"]!.GetValue<bool>());
        Assert.Null(json["stream"]);
    }

    [Fact]
    public async Task GetResponse_ToolCallsAnswered_MapsToolCalls()
    {
        _upstream.ToolCalls = [new UpstreamToolCall("call_1", "get_weather", """{"city":"Paris"}""")];
        var gateway = CreateGateway();

        var response = await gateway.GetResponseAsync(Request("weather?"), _testTimeout.Token);

        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        var call = Assert.Single(response.Message.ToolCalls);
        Assert.Equal(new ToolCall { Id = "call_1", Name = "get_weather", ArgumentsJson = """{"city":"Paris"}""" }, call);
        Assert.Empty(response.Message.Text);
    }

    [Fact]
    public async Task GetResponse_ImagePartsAndToolResult_SentInOpenAIShape()
    {
        var gateway = CreateGateway();
        var pngBytes = new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 };
        var dataUri = "data:image/png;base64," + Convert.ToBase64String(pngBytes);
        var request = Request("x") with
        {
            Messages =
            [
                new ChatMessage
                {
                    Role = ChatRole.User,
                    Content =
                    [
                        ContentPart.FromText("what is this?"),
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png", ImageDetail = "low" },
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = dataUri },
                    ],
                },
                new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [new ToolCall { Id = "call_9", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_9", Content = [ContentPart.FromText("a cat")] },
            ],
        };

        await gateway.GetResponseAsync(request, _testTimeout.Token);

        var messages = _upstream.LastRequest.Json!["messages"]!.AsArray();
        var parts = messages[0]!["content"]!.AsArray();
        Assert.Equal("text", parts[0]!["type"]!.GetValue<string>());
        Assert.Equal("image_url", parts[1]!["type"]!.GetValue<string>());
        Assert.Equal("https://example.com/cat.png", parts[1]!["image_url"]!["url"]!.GetValue<string>());
        Assert.Equal("low", parts[1]!["image_url"]!["detail"]!.GetValue<string>());
        Assert.Equal("image_url", parts[2]!["type"]!.GetValue<string>());
        Assert.Equal(dataUri, parts[2]!["image_url"]!["url"]!.GetValue<string>());
        var assistantCall = messages[1]!["tool_calls"]![0]!;
        Assert.Equal("call_9", assistantCall["id"]!.GetValue<string>());
        Assert.Equal("lookup", assistantCall["function"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"q":"cat"}""", assistantCall["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("tool", messages[2]!["role"]!.GetValue<string>());
        Assert.Equal("call_9", messages[2]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal("a cat", messages[2]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Stream_TextAnswer_ConcatenatesDeltasAndUsageOnlyWhenAsked(bool includeUsage)
    {
        _upstream.PromptTokens = 13;
        _upstream.CompletionTokens = 4;
        var gateway = CreateGateway();

        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(Request("stream me") with { IncludeUsage = includeUsage }, _testTimeout.Token));

        Assert.Equal(ChatRole.Assistant, chunks[0].Role);
        Assert.Equal("echo: stream me", string.Concat(chunks.Select(c => c.TextDelta)));
        Assert.True(chunks.Count(c => c.TextDelta is { Length: > 0 }) > 1, "the double streams the text in several deltas");
        var finish = Assert.Single(chunks, c => c.FinishReason is not null);
        Assert.Equal(FinishReason.Stop, finish.FinishReason);
        Assert.All(chunks, c => Assert.Equal("gpt-4o-2024-08-06", c.Model));
        var usageChunks = chunks.Where(c => c.Usage is not null).ToList();
        if (includeUsage)
        {
            var usage = Assert.Single(usageChunks);
            Assert.Same(chunks[^1], usage);
            Assert.Equal(new Usage { PromptTokens = 13, CompletionTokens = 4 }, usage.Usage);
        }
        else
        {
            Assert.Empty(usageChunks);
            Assert.Same(finish, chunks[^1]);
        }

        Assert.Equal(1, _upstream.StreamRequestCount);
        Assert.True(_upstream.LastRequest.Json!["stream"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Stream_ToolCalls_DeltasAssembleIntoCalls()
    {
        _upstream.ToolCalls =
        [
            new UpstreamToolCall("call_a", "get_weather", """{"city":"Paris","unit":"c"}"""),
            new UpstreamToolCall("call_b", "get_time", """{"tz":"Europe/Paris"}"""),
        ];
        var gateway = CreateGateway();

        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(Request("tools"), _testTimeout.Token));

        var deltas = chunks.SelectMany(c => c.ToolCallDeltas).ToList();
        var assembled = deltas.GroupBy(d => d.Index).OrderBy(g => g.Key).Select(g => new ToolCall
        {
            Id = g.First(d => d.Id is not null).Id!,
            Name = g.First(d => d.Name is not null).Name!,
            ArgumentsJson = string.Concat(g.Select(d => d.ArgumentsDelta)),
        }).ToList();
        Assert.Equal(
            [
                new ToolCall { Id = "call_a", Name = "get_weather", ArgumentsJson = """{"city":"Paris","unit":"c"}""" },
                new ToolCall { Id = "call_b", Name = "get_time", ArgumentsJson = """{"tz":"Europe/Paris"}""" },
            ],
            assembled);
        Assert.Equal(FinishReason.ToolCalls, Assert.Single(chunks, c => c.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task Stream_ConnectionDropsMidStream_ThrowsUpstreamFailedAfterEarlierChunks()
    {
        var twoChunksRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Behavior = _ => new UpstreamReply { Text = "a fairly long answer", AbortAfterEvents = 2, AbortWhen = twoChunksRead.Task };
        var gateway = CreateGateway();
        var received = new List<ChatChunk>();

        var ex = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in gateway.GetStreamingResponseAsync(Request("x"), _testTimeout.Token))
            {
                received.Add(chunk);
                if (received.Count == 2)
                {
                    twoChunksRead.SetResult();
                }
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal(2, received.Count);
        Assert.Equal(ChatRole.Assistant, received[0].Role);
    }

    [Fact]
    public async Task GetResponse_RateLimited_ThrowsRateLimitedWithRetryAfter()
    {
        _upstream.Behavior = _ => UpstreamReply.RateLimited(retryAfterSeconds: 7);
        var gateway = CreateGateway();

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.RateLimited, ex.Error);
        Assert.Equal(TimeSpan.FromSeconds(7), ex.RetryAfter);
        Assert.Equal(429, ex.UpstreamStatus);
        Assert.Equal(1, _upstream.RequestCount);
    }

    [Fact]
    public async Task GetResponse_ServerError_ThrowsUpstreamFailedAfterOneRequest()
    {
        _upstream.Behavior = _ => UpstreamReply.ServerError();
        var gateway = CreateGateway();

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal(500, ex.UpstreamStatus);
        Assert.Contains("'test-openai'", ex.Message);
        Assert.Equal(1, _upstream.RequestCount);
    }

    [Fact]
    public async Task Stream_ServerError_ThrowsUpstreamFailedAfterOneRequest()
    {
        _upstream.FailWithStatus = 503;
        var gateway = CreateGateway();

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("x"), _testTimeout.Token)));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal(503, ex.UpstreamStatus);
        Assert.Equal(1, _upstream.RequestCount);
    }

    [Fact]
    public async Task GetResponse_InvalidKey_ThrowsUpstreamAuthFailedWithoutKey()
    {
        _upstream.Behavior = r => UpstreamReply.InvalidApiKey(r.Header("Authorization")!["Bearer ".Length..]);
        var gateway = CreateGateway();

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamAuthFailed, ex.Error);
        Assert.Equal(401, ex.UpstreamStatus);
        Assert.DoesNotContain(ProviderKey, ex.Message);
        Assert.DoesNotContain("sk-", ex.Message);
        Assert.Contains("'test-openai'", ex.Message);
    }

    [Fact]
    public async Task GetResponse_BadRequest_ThrowsInvalidRequestWithUpstreamMessage()
    {
        _upstream.Behavior = _ => UpstreamReply.BadRequest("Invalid value for 'temperature': must be at most 2.", "temperature");
        var gateway = CreateGateway();

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.Equal("temperature", ex.Param);
        Assert.Contains("must be at most 2", ex.Message);
    }

    [Fact]
    public async Task GetResponse_ContextTooLong_ThrowsContextLengthExceeded()
    {
        _upstream.Behavior = _ => UpstreamReply.ContextLengthExceeded();
        var gateway = CreateGateway();

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.ContextLengthExceeded, ex.Error);
        Assert.Equal(400, ex.UpstreamStatus);
    }

    [Fact]
    public async Task GetResponse_ConnectionRefused_ThrowsUpstreamFailed()
    {
        var gateway = CreateGateway(baseUrl: $"http://127.0.0.1:{TestPorts.Closed()}/v1");

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal("could not connect to provider 'test-openai'", ex.Message);
    }

    [Fact]
    public async Task GetResponse_UpstreamSlowerThanTimeout_ThrowsUpstreamTimeout()
    {
        _upstream.DelayMs = 30_000;
        var gateway = CreateGateway(timeoutSeconds: 0.5);

        var ex = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamTimeout, ex.Error);
    }

    [Fact]
    public async Task Stream_UpstreamSlowerThanTimeout_ThrowsUpstreamTimeout()
    {
        _upstream.DelayMs = 30_000;
        var gateway = CreateGateway(timeoutSeconds: 0.5);

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("x"), _testTimeout.Token)));

        Assert.Equal(GatewayError.UpstreamTimeout, ex.Error);
    }

    [Fact]
    public async Task GetResponse_CallerCancels_ThrowsOperationCanceled()
    {
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(_testTimeout.Token);
        _upstream.Behavior = _ =>
        {
            // Cancel once the request is known to be upstream: no sleep, no race with the send.
            caller.Cancel();
            return new UpstreamReply { DelayMs = 30_000 };
        };
        var gateway = CreateGateway();

        var ex = await Record.ExceptionAsync(() => gateway.GetResponseAsync(Request("x"), caller.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.False(_testTimeout.IsCancellationRequested, "the test's own timeout fired");
    }

    [Fact]
    public async Task Stream_CallerCancels_ThrowsOperationCanceled()
    {
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(_testTimeout.Token);
        _upstream.Behavior = _ =>
        {
            caller.Cancel();
            return new UpstreamReply { DelayMs = 30_000 };
        };
        var gateway = CreateGateway();

        var ex = await Record.ExceptionAsync(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("x"), caller.Token)));

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
    }

    [Fact]
    public async Task GetResponse_CompatibleWithoutKey_SendsNoAuthorization()
    {
        var gateway = new OpenAICompatibleChatGatewayFactory().Create(
            "local", new ProviderOptions { Kind = ProviderKinds.OpenAICompatible, BaseUrl = _upstream.BaseUrlFor("local") });
        _gateways.Add(gateway);

        var response = await gateway.GetResponseAsync(Request("hi") with { MaxTokens = 42 }, _testTimeout.Token);

        Assert.Equal("echo: hi", response.Message.Text);
        Assert.Null(_upstream.LastRequest.Header("Authorization"));
        Assert.Equal(42, _upstream.LastRequest.Json!["max_tokens"]!.GetValue<int>());
        Assert.Null(_upstream.LastRequest.Json!["max_completion_tokens"]);
        Assert.Equal("local", _upstream.LastRequest.Tag);
        Assert.Equal(1, _upstream.RequestCountFor("local"));
    }

    [Fact]
    public async Task GetResponse_KeyFromEnvironment_SendsResolvedKey()
    {
        var variable = "GATEHOUSE_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "sk-from-env");
        try
        {
            var gateway = CreateGateway(apiKey: "env:" + variable);

            await gateway.GetResponseAsync(Request("hi"), _testTimeout.Token);

            Assert.Equal("Bearer sk-from-env", _upstream.LastRequest.Header("Authorization"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Create_OpenAIWithoutKey_ThrowsNamingTheSetting()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new OpenAIChatGatewayFactory().Create(
            "openai", new ProviderOptions { Kind = ProviderKinds.OpenAI, ApiKey = "env:GATEHOUSE_TEST_SURELY_UNSET_VARIABLE" }));

        Assert.Contains("Gatehouse:Providers:openai:ApiKey", ex.Message);
    }

    [Fact]
    public void GetService_OwnType_ReturnsItself()
    {
        var gateway = CreateGateway();

        Assert.Same(gateway, gateway.GetService(typeof(IChatGateway)));
        Assert.Null(gateway.GetService(typeof(string)));
    }

    private IChatGateway CreateGateway(string? baseUrl = null, double timeoutSeconds = 5, string apiKey = ProviderKey)
    {
        var gateway = new OpenAIChatGatewayFactory().Create("test-openai", new ProviderOptions
        {
            Kind = ProviderKinds.OpenAI,
            BaseUrl = baseUrl ?? _upstream.BaseUrl,
            ApiKey = apiKey,
            TimeoutSeconds = timeoutSeconds,
        });
        _gateways.Add(gateway);
        return gateway;
    }

    private static ChatRequest Request(string userText) => new()
    {
        Model = "gpt-4o-2024-08-06",
        Messages = [ChatMessage.FromText(ChatRole.User, userText)],
    };

    private static async Task<List<ChatChunk>> CollectAsync(IAsyncEnumerable<ChatChunk> stream)
    {
        var chunks = new List<ChatChunk>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

}
