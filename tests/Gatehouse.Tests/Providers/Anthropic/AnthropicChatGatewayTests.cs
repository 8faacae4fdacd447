using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Anthropic;
using Gatehouse.Tests.Doubles;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.Anthropic;

/// <summary>The Anthropic adapter over real HTTP against <see cref="AnthropicUpstreamDouble"/>.</summary>
public sealed class AnthropicChatGatewayTests : IAsyncLifetime
{
    private const string ProviderKey = "test-ant-test-provider-key-1234567890";
    private const string Model = "claude-sonnet-4-5";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private AnthropicUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);

    public async Task InitializeAsync() => _upstream = await AnthropicUpstreamDouble.StartAsync(_testTimeout.Token);

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
    public async Task GetResponse_TextAnswer_MapsAnswerUsageAndStopReason()
    {
        _upstream.InputTokens = 20;
        _upstream.CacheReadInputTokens = 3;
        _upstream.CacheCreationInputTokens = 2;
        _upstream.OutputTokens = 9;

        var response = await CreateGateway().GetResponseAsync(Request("hello"), _testTimeout.Token);

        Assert.Equal("echo: hello", response.Message.Text);
        Assert.Equal(ChatRole.Assistant, response.Message.Role);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 25, CompletionTokens = 9, CachedPromptTokens = 3 }, response.Usage);
        Assert.Equal(Model, response.Model);
        Assert.StartsWith("msg_", response.Id);
    }

    [Fact]
    public async Task GetResponse_Request_SendsKeyVersionAndDefaultMaxTokens()
    {
        await CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/messages", sent.Path);
        Assert.Equal(ProviderKey, sent.Header("x-api-key"));
        Assert.Equal("2023-06-01", sent.Header("anthropic-version"));
        Assert.Null(sent.Header("authorization"));
        Assert.Equal(AnthropicConstants.DefaultMaxTokens, sent.Json!["max_tokens"]!.GetValue<int>());
        Assert.Null(sent.Json["stream"]);
    }

    [Fact]
    public async Task GetResponse_ConfiguredDefaultMaxTokens_IsSentWhenCallerSetsNone()
    {
        await CreateGateway(o => o.DefaultMaxTokens = 1234).GetResponseAsync(Request("hi"), _testTimeout.Token);

        Assert.Equal(1234, _upstream.LastRequest.Json!["max_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task GetResponse_AllOptions_SendsThemInAnthropicShape()
    {
        var png = "data:image/png;base64," + Convert.ToBase64String([0x89, 0x50, 0x4E, 0x47]);
        var request = Request("x") with
        {
            Messages =
            [
                ChatMessage.FromText(ChatRole.System, "be brief"),
                ChatMessage.FromText(ChatRole.System, "answer in French"),
                new ChatMessage
                {
                    Role = ChatRole.User,
                    Content =
                    [
                        ContentPart.FromText("what is this?"),
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = png },
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png" },
                    ],
                },
                new ChatMessage
                {
                    Role = ChatRole.Assistant,
                    Content = [ContentPart.FromText("let me check")],
                    ToolCalls =
                    [
                        new ToolCall { Id = "call_a", Name = "get_weather", ArgumentsJson = """{"city":"Paris"}""" },
                        new ToolCall { Id = "call_b", Name = "get_weather", ArgumentsJson = """{"city":"Lyon"}""" },
                    ],
                },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_a", Content = [ContentPart.FromText("sunny")] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_b", Content = [ContentPart.FromText("rainy")] },
            ],
            Temperature = 0.25,
            TopP = 0.5,
            MaxTokens = 42,
            Stop = ["END", "STOP"],
            User = "end-user-1",
            ParallelToolCalls = false,
            Tools = [new ToolDefinition { Name = "get_weather", Description = "Weather", ParametersJson = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "get_weather" },
        };

        await CreateGateway().GetResponseAsync(request, _testTimeout.Token);

        var json = _upstream.LastRequest.Json!;
        Assert.Equal(Model, json["model"]!.GetValue<string>());
        Assert.Equal(42, json["max_tokens"]!.GetValue<int>());
        Assert.Equal("be brief\n\nanswer in French", json["system"]!.GetValue<string>());
        Assert.Equal(0.25, json["temperature"]!.GetValue<double>(), 5);
        Assert.Equal(0.5, json["top_p"]!.GetValue<double>(), 5);
        Assert.Equal(["END", "STOP"], json["stop_sequences"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("end-user-1", json["metadata"]!["user_id"]!.GetValue<string>());

        var messages = json["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        Assert.Equal(
            """{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw=="}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}}]}""",
            messages[0]!.ToJsonString());
        Assert.Equal(
            """{"role":"assistant","content":[{"type":"text","text":"let me check"},{"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_b","name":"get_weather","input":{"city":"Lyon"}}]}""",
            messages[1]!.ToJsonString());
        Assert.Equal(
            """{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_a","content":"sunny"},{"type":"tool_result","tool_use_id":"call_b","content":"rainy"}]}""",
            messages[2]!.ToJsonString());
        Assert.Equal(
            """[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]""",
            json["tools"]!.ToJsonString());
        Assert.Equal("""{"type":"tool","name":"get_weather","disable_parallel_tool_use":true}""", json["tool_choice"]!.ToJsonString());
    }

    [Theory]
    [InlineData(ToolChoiceMode.Auto, """{"type":"auto"}""")]
    [InlineData(ToolChoiceMode.Required, """{"type":"any"}""")]
    [InlineData(ToolChoiceMode.None, """{"type":"none"}""")]
    public async Task GetResponse_ToolChoice_MapsToAnthropicType(ToolChoiceMode mode, string expected)
    {
        var request = Request("hi") with
        {
            Tools = [new ToolDefinition { Name = "noop" }],
            ToolChoice = new ToolChoice { Mode = mode },
        };

        await CreateGateway().GetResponseAsync(request, _testTimeout.Token);

        var json = _upstream.LastRequest.Json!;
        Assert.Equal(expected, json["tool_choice"]!.ToJsonString());
        Assert.Equal("""{"type":"object","properties":{}}""", json["tools"]![0]!["input_schema"]!.ToJsonString());
    }

    [Fact]
    public async Task GetResponse_ToolUseAnswered_MapsToolCallsAndFinishReason()
    {
        _upstream.ToolCalls = [new UpstreamToolCall("toolu_01A", "get_weather", """{"city":"Paris"}""")];

        var response = await CreateGateway().GetResponseAsync(Request("weather?"), _testTimeout.Token);

        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(new ToolCall { Id = "toolu_01A", Name = "get_weather", ArgumentsJson = """{"city":"Paris"}""" }, Assert.Single(response.Message.ToolCalls));
        Assert.Empty(response.Message.Text);
    }

    [Theory]
    [InlineData("max_tokens", FinishReason.Length)]
    [InlineData("stop_sequence", FinishReason.Stop)]
    [InlineData("end_turn", FinishReason.Stop)]
    [InlineData("refusal", FinishReason.ContentFilter)]
    public async Task GetResponse_StopReason_MapsToFinishReason(string stopReason, FinishReason expected)
    {
        _upstream.Behavior = _ => new UpstreamReply { FinishReason = stopReason };

        var response = await CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token);

        Assert.Equal(expected, response.FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponse_Text_StreamsDeltasFinishAndUsage()
    {
        _upstream.InputTokens = 30;
        _upstream.CacheReadInputTokens = 4;
        _upstream.OutputTokens = 6;

        var chunks = await CollectAsync(CreateGateway().GetStreamingResponseAsync(Request("stream me") with { IncludeUsage = true }, _testTimeout.Token));

        Assert.True(_upstream.LastRequest.Stream);
        Assert.Equal(ChatRole.Assistant, chunks[0].Role);
        Assert.StartsWith("msg_", chunks[0].Id);
        Assert.Equal("echo: stream me", string.Concat(chunks.Select(c => c.TextDelta)));
        Assert.True(chunks.Count(c => c.TextDelta is not null) > 1);
        Assert.Equal(FinishReason.Stop, Assert.Single(chunks, c => c.FinishReason is not null).FinishReason);
        Assert.Equal(new Usage { PromptTokens = 34, CompletionTokens = 6 }, chunks[^1].Usage);
        Assert.Null(chunks[^1].TextDelta);
    }

    [Fact]
    public async Task GetStreamingResponse_NoUsageRequested_HasNoUsageChunk()
    {
        var chunks = await CollectAsync(CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.DoesNotContain(chunks, c => c.Usage is not null);
    }

    [Fact]
    public async Task GetStreamingResponse_ToolUse_AssemblesInputJsonDeltasIntoToolCallDeltas()
    {
        _upstream.ToolCalls =
        [
            new UpstreamToolCall("toolu_01A", "get_weather", """{"city":"Paris","unit":"celsius"}"""),
            new UpstreamToolCall("toolu_01B", "get_time", """{"zone":"CET"}"""),
        ];

        var chunks = await CollectAsync(CreateGateway().GetStreamingResponseAsync(Request("weather?"), _testTimeout.Token));

        var deltas = chunks.SelectMany(c => c.ToolCallDeltas).ToList();
        var heads = deltas.Where(d => d.Id is not null).ToList();
        Assert.Equal([(0, "toolu_01A", "get_weather"), (1, "toolu_01B", "get_time")], heads.Select(h => (h.Index, h.Id!, h.Name!)));
        Assert.Equal("""{"city":"Paris","unit":"celsius"}""", string.Concat(deltas.Where(d => d.Index == 0).Select(d => d.ArgumentsDelta)));
        Assert.Equal("""{"zone":"CET"}""", string.Concat(deltas.Where(d => d.Index == 1).Select(d => d.ArgumentsDelta)));
        Assert.True(deltas.Count(d => d.Index == 0 && d.ArgumentsDelta is not null) > 1);
        Assert.Equal(FinishReason.ToolCalls, Assert.Single(chunks, c => c.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task GetResponse_RateLimited_IsRateLimitedWithRetryAfter()
    {
        _upstream.Behavior = _ => AnthropicReplies.RateLimited(17);

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.RateLimited, error.Error);
        Assert.Equal(TimeSpan.FromSeconds(17), error.RetryAfter);
        Assert.Equal(429, error.UpstreamStatus);
        Assert.Equal(1, _upstream.RequestCount);
    }

    [Fact]
    public async Task GetResponse_Overloaded529_IsRetryableUpstreamFailed()
    {
        _upstream.Behavior = _ => AnthropicReplies.Overloaded();

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(529, error.UpstreamStatus);
        Assert.True(error.Error.IsRetryable());
        Assert.Equal(1, _upstream.RequestCount);
    }

    [Fact]
    public async Task GetResponse_ServerError_IsUpstreamFailed()
    {
        _upstream.Behavior = _ => AnthropicReplies.ServerError();

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(500, error.UpstreamStatus);
    }

    [Fact]
    public async Task GetResponse_Unauthorized_IsUpstreamAuthFailedWithoutUpstreamMessage()
    {
        _upstream.Behavior = _ => AnthropicReplies.InvalidApiKey();

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamAuthFailed, error.Error);
        Assert.Contains("credentials", error.Message);
        Assert.DoesNotContain("x-api-key", error.Message);
        Assert.DoesNotContain(ProviderKey, error.Message);
    }

    [Fact]
    public async Task GetResponse_BadRequest_IsInvalidRequestWithUpstreamMessage()
    {
        _upstream.Behavior = _ => AnthropicReplies.BadRequest("messages.0.content: Field required");

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Contains("messages.0.content: Field required", error.Message);
        Assert.False(error.Error.IsRetryable());
    }

    [Fact]
    public async Task GetResponse_PromptTooLong_IsContextLengthExceeded()
    {
        _upstream.Behavior = _ => AnthropicReplies.PromptTooLong();

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.ContextLengthExceeded, error.Error);
        Assert.Contains("prompt is too long", error.Message);
    }

    [Fact]
    public async Task GetStreamingResponse_RateLimitedBeforeFirstEvent_IsRateLimitedWithRetryAfter()
    {
        _upstream.Behavior = _ => AnthropicReplies.RateLimited(3);

        var error = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token)));

        Assert.Equal(GatewayError.RateLimited, error.Error);
        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
    }

    [Fact]
    public async Task GetStreamingResponse_ErrorEventMidStream_IsUpstreamFailed529AfterChunks()
    {
        _upstream.Behavior = _ => new UpstreamReply { Text = "a fairly long answer", AbortAfterEvents = 4 };
        var received = new List<ChatChunk>();

        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token))
            {
                received.Add(chunk);
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(529, error.UpstreamStatus);
        Assert.NotEmpty(received);
    }

    [Fact]
    public async Task GetResponse_ConnectionRefused_IsUpstreamFailed()
    {
        var gateway = CreateGateway(o => o.BaseUrl = $"http://127.0.0.1:{TestPorts.Closed()}");

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("could not connect", error.Message);
    }

    [Fact]
    public async Task GetResponse_SlowerThanTimeout_IsUpstreamTimeout()
    {
        _upstream.Behavior = _ => new UpstreamReply { DelayMs = 5_000 };
        var gateway = CreateGateway(o => o.TimeoutSeconds = 0.2);

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamTimeout, error.Error);
    }

    [Fact]
    public async Task GetResponse_CallerCancels_ThrowsOperationCanceled()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Behavior = _ =>
        {
            arrived.TrySetResult();
            return new UpstreamReply { DelayMs = 5_000 };
        };
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(_testTimeout.Token);

        var call = CreateGateway().GetResponseAsync(Request("hi"), caller.Token);
        await arrived.Task.WaitAsync(_testTimeout.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Theory]
    [InlineData("seed")]
    [InlineData("presence_penalty")]
    [InlineData("frequency_penalty")]
    [InlineData("response_format")]
    [InlineData("temperature")]
    public async Task GetResponse_FieldAnthropicCannotExpress_IsInvalidRequestNamingItAndSendsNothing(string field)
    {
        var request = field switch
        {
            "seed" => Request("hi") with { Seed = 1 },
            "presence_penalty" => Request("hi") with { PresencePenalty = 0.5 },
            "frequency_penalty" => Request("hi") with { FrequencyPenalty = 0.5 },
            "response_format" => Request("hi") with { ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject } },
            _ => Request("hi") with { Temperature = 1.5 },
        };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(request, _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(field, error.Param);
        Assert.Equal(0, _upstream.RequestCount);
    }

    [Fact]
    public void Create_NoApiKey_FailsNamingTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            new AnthropicChatGatewayFactory().Create("claude", new ProviderOptions { Kind = ProviderKinds.Anthropic }));

        Assert.Contains("Gatehouse:Providers:claude:ApiKey", error.Message);
    }

    private IChatGateway CreateGateway(Action<ProviderOptions>? configure = null)
    {
        var options = new ProviderOptions { Kind = ProviderKinds.Anthropic, BaseUrl = _upstream.BaseUrl, ApiKey = ProviderKey, TimeoutSeconds = 10 };
        configure?.Invoke(options);
        var gateway = new AnthropicChatGatewayFactory().Create("claude", options);
        _gateways.Add(gateway);
        return gateway;
    }

    private static ChatRequest Request(string text) => new() { Model = Model, Messages = [ChatMessage.FromText(ChatRole.User, text)] };

    private static async Task<List<ChatChunk>> CollectAsync(IAsyncEnumerable<ChatChunk> chunks)
    {
        var list = new List<ChatChunk>();
        await foreach (var chunk in chunks)
        {
            list.Add(chunk);
        }

        return list;
    }

}
