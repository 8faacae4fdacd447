using System.Net;
using System.Net.Sockets;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Local;
using Gatehouse.Tests.Doubles;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.Local;

/// <summary>The native Ollama adapter over real HTTP against <see cref="OllamaUpstreamDouble"/>.</summary>
public sealed class OllamaChatGatewayTests : IAsyncLifetime
{
    private const string Model = "llama3.1:8b";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private OllamaUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);

    public async Task InitializeAsync() => _upstream = await OllamaUpstreamDouble.StartAsync(_testTimeout.Token);

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
        _upstream.Behavior = _ => new UpstreamReply { PromptTokens = 26, CompletionTokens = 298 };

        var response = await CreateGateway().GetResponseAsync(Request("hello"), _testTimeout.Token);

        Assert.Equal("echo: hello", response.Message.Text);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 26, CompletionTokens = 298 }, response.Usage);
        Assert.Equal(Model, response.Model);
        Assert.False(_upstream.LastRequest.Json!["stream"]!.GetValue<bool>());
        Assert.Null(_upstream.LastRequest.Header("authorization"));
    }

    [Fact]
    public async Task GetResponse_AllOptions_SendsThemInOllamaShape()
    {
        var request = Request("x") with
        {
            Messages =
            [
                ChatMessage.FromText(ChatRole.System, "be brief"),
                new ChatMessage
                {
                    Role = ChatRole.User,
                    Content = [ContentPart.FromText("what is this?"), new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,iVBORw==" }],
                },
                new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [new ToolCall { Id = "call_1", Name = "get_weather", ArgumentsJson = """{"city":"Paris"}""" }] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_1", Content = [ContentPart.FromText("sunny")] },
            ],
            Temperature = 0.25,
            TopP = 0.5,
            MaxTokens = 42,
            Stop = ["END"],
            Seed = 7,
            Tools = [new ToolDefinition { Name = "get_weather", ParametersJson = """{"type":"object","properties":{"city":{"type":"string"}}}""" }],
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaJson = """{"type":"object"}""" },
        };

        await CreateGateway(o => o.ApiKey = "ollama-proxy-key").GetResponseAsync(request, _testTimeout.Token);

        var sent = _upstream.LastRequest;
        var json = sent.Json!;
        Assert.Equal("Bearer ollama-proxy-key", sent.Header("authorization"));
        Assert.Equal(
            """[{"role":"system","content":"be brief"},{"role":"user","content":"what is this?","images":["iVBORw=="]},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},{"role":"tool","content":"sunny","tool_name":"get_weather"}]""",
            json["messages"]!.ToJsonString());
        Assert.Equal("""{"temperature":0.25,"top_p":0.5,"num_predict":42,"seed":7,"stop":["END"]}""", json["options"]!.ToJsonString());
        Assert.Equal("""{"type":"object"}""", json["format"]!.ToJsonString());
        Assert.Equal("get_weather", json["tools"]![0]!["function"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetResponse_ToolCall_GetsAnIdAndToolCallsFinish()
    {
        _upstream.Behavior = _ => new UpstreamReply { ToolCalls = [new UpstreamToolCall("", "get_weather", """{"city":"Paris"}""")] };

        var response = await CreateGateway().GetResponseAsync(Request("weather?"), _testTimeout.Token);

        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        var call = Assert.Single(response.Message.ToolCalls);
        Assert.StartsWith("call_", call.Id);
        Assert.Equal(("get_weather", """{"city":"Paris"}"""), (call.Name, call.ArgumentsJson));
    }

    [Fact]
    public async Task GetStreamingResponse_Ndjson_StreamsTextToolCallFinishAndUsage()
    {
        _upstream.Behavior = _ => new UpstreamReply { Text = "sure, checking", ToolCalls = [new UpstreamToolCall("", "get_weather", """{"city":"Paris"}""")], PromptTokens = 9, CompletionTokens = 4 };
        var chunks = new List<ChatChunk>();

        await foreach (var chunk in CreateGateway().GetStreamingResponseAsync(Request("hi") with { IncludeUsage = true }, _testTimeout.Token))
        {
            chunks.Add(chunk);
        }

        Assert.True(_upstream.LastRequest.Json!["stream"]!.GetValue<bool>());
        Assert.Equal(ChatRole.Assistant, chunks[0].Role);
        Assert.Equal("sure, checking", string.Concat(chunks.Select(c => c.TextDelta)));
        var delta = Assert.Single(chunks.SelectMany(c => c.ToolCallDeltas));
        Assert.Equal((0, "get_weather", """{"city":"Paris"}"""), (delta.Index, delta.Name!, delta.ArgumentsDelta!));
        Assert.StartsWith("call_", delta.Id);
        Assert.Equal(FinishReason.ToolCalls, Assert.Single(chunks, c => c.FinishReason is not null).FinishReason);
        Assert.Equal(new Usage { PromptTokens = 9, CompletionTokens = 4 }, chunks[^1].Usage);
    }

    [Fact]
    public async Task GetStreamingResponse_ErrorLineMidStream_IsUpstreamFailed()
    {
        _upstream.Behavior = _ => new UpstreamReply { Text = "partial answer", AbortAfterEvents = 1 };
        var received = 0;

        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token))
            {
                received++;
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.True(received > 0);
    }

    [Theory]
    [InlineData(404, GatewayError.InvalidRequest)]
    [InlineData(400, GatewayError.InvalidRequest)]
    [InlineData(401, GatewayError.UpstreamAuthFailed)]
    [InlineData(429, GatewayError.RateLimited)]
    [InlineData(500, GatewayError.UpstreamFailed)]
    [InlineData(503, GatewayError.UpstreamFailed)]
    public async Task GetResponse_ErrorStatus_IsClassified(int status, GatewayError expected)
    {
        _upstream.Behavior = _ => OllamaUpstreamDouble.Error(status, $"model \"{Model}\" not found, try pulling it first");

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(expected, error.Error);
        Assert.Equal(status, error.UpstreamStatus);
    }

    [Fact]
    public async Task GetResponse_ConnectionRefused_IsUpstreamFailed()
    {
        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.BaseUrl = $"http://127.0.0.1:{TestPorts.Closed()}").GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
    }

    [Fact]
    public async Task GetResponse_SlowerThanTimeout_IsUpstreamTimeout()
    {
        _upstream.Behavior = _ => new UpstreamReply { DelayMs = 5_000 };

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.TimeoutSeconds = 0.2).GetResponseAsync(Request("hi"), _testTimeout.Token));

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
    [InlineData("tool_choice")]
    [InlineData("messages")]
    public async Task GetResponse_WhatOllamaCannotExpress_IsInvalidRequestAndSendsNothing(string field)
    {
        var request = field == "tool_choice"
            ? Request("hi") with { Tools = [new ToolDefinition { Name = "t" }], ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required } }
            : Request("hi") with { Messages = [new ChatMessage { Role = ChatRole.User, Content = [new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png" }] }] };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(request, _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(field, error.Param);
        Assert.Empty(_upstream.Requests);
    }

    private IChatGateway CreateGateway(Action<ProviderOptions>? configure = null)
    {
        var options = new ProviderOptions { Kind = ProviderKinds.Ollama, BaseUrl = _upstream.BaseUrl, TimeoutSeconds = 10 };
        configure?.Invoke(options);
        var gateway = new OllamaChatGatewayFactory().Create("local", options);
        _gateways.Add(gateway);
        return gateway;
    }

    private static ChatRequest Request(string text) => new() { Model = Model, Messages = [ChatMessage.FromText(ChatRole.User, text)] };

}
