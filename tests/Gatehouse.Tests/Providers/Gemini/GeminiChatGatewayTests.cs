using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Gemini;
using Gatehouse.Tests.Doubles;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.Gemini;

/// <summary>The native Gemini adapter over real HTTP against <see cref="GeminiUpstreamDouble"/>.</summary>
public sealed class GeminiChatGatewayTests : IAsyncLifetime
{
    private const string Model = "gemini-2.5-flash";
    private const string Key = "gm-FAKE-adapter-key-0123456789";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    private GeminiUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);
    private readonly CapturingLoggerProvider _logs = new();

    public async Task InitializeAsync() => _upstream = await GeminiUpstreamDouble.StartAsync(Key, _testTimeout.Token);

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            (gateway as IDisposable)?.Dispose();
        }

        await _upstream.DisposeAsync();
        _testTimeout.Dispose();
    }

    // ---- requests: canonical → generateContent ----

    [Fact]
    public async Task GetResponse_TextAnswer_PostsGenerateContentWithKeyInHeaderOnly_AndMapsTheAnswer()
    {
        _upstream.Behavior = _ => new UpstreamReply { PromptTokens = 26, CompletionTokens = 298 };

        var response = await CreateGateway().GetResponseAsync(Request("hello"), _testTimeout.Token);

        var sent = _upstream.LastRequest;
        Assert.Equal($"/v1beta/models/{Model}:generateContent", sent.Path);
        Assert.Equal(Key, sent.Header("x-goog-api-key"));
        Assert.Null(sent.Header("authorization"));
        Assert.DoesNotContain(Key, sent.Path);
        Assert.DoesNotContain(Key, sent.Body);
        Assert.Equal("""[{"role":"user","parts":[{"text":"hello"}]}]""", sent.Json!["contents"]!.ToJsonString());
        Assert.Null(sent.Json!["generationConfig"]);
        Assert.Null(sent.Json!["systemInstruction"]);

        Assert.Equal("echo: hello", response.Message.Text);
        Assert.Equal(ChatRole.Assistant, response.Message.Role);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 26, CompletionTokens = 298 }, response.Usage);
        Assert.Equal(GeminiUpstreamDouble.ModelVersion, response.Model);
        Assert.StartsWith("gm-resp-", response.Id);
    }

    [Fact]
    public async Task GetResponse_AllOptions_SendsThemInGeminiShape()
    {
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
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,iVBORw==" },
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.jpg" },
                    ],
                },
                new ChatMessage
                {
                    Role = ChatRole.Assistant,
                    Content = [ContentPart.FromText("checking")],
                    ToolCalls =
                    [
                        new ToolCall { Id = "call_1", Name = "get_weather", ArgumentsJson = """{"city":"Paris"}""" },
                        new ToolCall { Id = "call_2", Name = "get_time", ArgumentsJson = """{"tz":"CET"}""" },
                    ],
                },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_1", Content = [ContentPart.FromText("sunny")] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_2", Content = [ContentPart.FromText("""{"time":"12:00"}""")] },
                ChatMessage.FromText(ChatRole.User, "thanks"),
            ],
            Temperature = 0.25,
            TopP = 0.5,
            MaxTokens = 42,
            Stop = ["END", "STOP"],
            Seed = 7,
            Tools =
            [
                new ToolDefinition { Name = "get_weather", Description = "weather by city", ParametersJson = """{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}""" },
                new ToolDefinition { Name = "get_time" },
            ],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Auto },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = """{"$schema":"x","type":"object","properties":{"a":{"type":"string"}}}""" },
        };

        await CreateGateway().GetResponseAsync(request, _testTimeout.Token);

        var json = _upstream.LastRequest.Json!;
        Assert.Equal("""{"parts":[{"text":"be brief"},{"text":"answer in French"}]}""", json["systemInstruction"]!.ToJsonString());
        Assert.Equal(
            """[{"role":"user","parts":[{"text":"what is this?"},{"inlineData":{"mimeType":"image/png","data":"iVBORw=="}},{"fileData":{"mimeType":"image/jpeg","fileUri":"https://example.com/cat.jpg"}}]},"""
            + """{"role":"model","parts":[{"text":"checking"},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{"tz":"CET"}}}]},"""
            + """{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},{"functionResponse":{"name":"get_time","response":{"time":"12:00"}}}]},"""
            + """{"role":"user","parts":[{"text":"thanks"}]}]""",
            json["contents"]!.ToJsonString());
        Assert.Equal(
            """[{"functionDeclarations":[{"name":"get_weather","description":"weather by city","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}},{"name":"get_time"}]}]""",
            json["tools"]!.ToJsonString());
        Assert.Equal("""{"functionCallingConfig":{"mode":"AUTO"}}""", json["toolConfig"]!.ToJsonString());
        Assert.Equal(
            """{"temperature":0.25,"topP":0.5,"maxOutputTokens":42,"stopSequences":["END","STOP"],"seed":7,"responseMimeType":"application/json","responseJsonSchema":{"type":"object","properties":{"a":{"type":"string"}}}}""",
            json["generationConfig"]!.ToJsonString());
    }

    [Theory]
    [InlineData(ToolChoiceMode.Auto, """{"functionCallingConfig":{"mode":"AUTO"}}""")]
    [InlineData(ToolChoiceMode.Required, """{"functionCallingConfig":{"mode":"ANY"}}""")]
    [InlineData(ToolChoiceMode.None, """{"functionCallingConfig":{"mode":"NONE"}}""")]
    [InlineData(ToolChoiceMode.Function, """{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}""")]
    public async Task GetResponse_ToolChoice_IsFunctionCallingConfig(ToolChoiceMode mode, string expected)
    {
        var request = Request("weather?") with
        {
            Tools = [new ToolDefinition { Name = "get_weather", ParametersJson = WeatherSchema }],
            ToolChoice = new ToolChoice { Mode = mode, FunctionName = mode == ToolChoiceMode.Function ? "get_weather" : null },
        };

        await CreateGateway().GetResponseAsync(request, _testTimeout.Token);

        Assert.Equal(expected, _upstream.LastRequest.Json!["toolConfig"]!.ToJsonString());
    }

    [Fact]
    public async Task GetResponse_JsonObject_IsResponseMimeTypeOnly()
    {
        await CreateGateway().GetResponseAsync(Request("x") with { ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject } }, _testTimeout.Token);

        Assert.Equal("""{"responseMimeType":"application/json"}""", _upstream.LastRequest.Json!["generationConfig"]!.ToJsonString());
    }

    [Theory]
    [InlineData("models/gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:generateContent")]
    [InlineData("gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:generateContent")]
    public async Task GetResponse_ModelName_WithOrWithoutModelsPrefix_IsOnePath(string model, string path)
    {
        await CreateGateway().GetResponseAsync(Request("x") with { Model = model }, _testTimeout.Token);

        Assert.Equal(path, _upstream.LastRequest.Path);
    }

    [Fact]
    public async Task GetResponse_BaseUrlEndingInAVersion_IsUsedAsItIs()
    {
        await CreateGateway(o => o.BaseUrl = _upstream.BaseUrl + "/v1beta/").GetResponseAsync(Request("x"), _testTimeout.Token);

        Assert.Equal($"/v1beta/models/{Model}:generateContent", _upstream.LastRequest.Path);
    }

    [Theory]
    [InlineData("tool_choice")]
    [InlineData("messages")]
    [InlineData("tools")]
    public async Task GetResponse_WhatGeminiCannotExpress_IsInvalidRequestNamingTheFieldAndSendsNothing(string field)
    {
        var request = field switch
        {
            "tool_choice" => Request("hi") with { Tools = [new ToolDefinition { Name = "t" }], ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "other" } },
            "tools" => Request("hi") with { Tools = [new ToolDefinition { Name = "t", ParametersJson = "[1]" }] },
            _ => Request("hi") with { Messages = [new ChatMessage { Role = ChatRole.User, Content = [new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "ftp://example.com/cat.png" }] }] },
        };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(request, _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(field, error.Param);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task GetResponse_ToolResultForNoKnownCall_IsInvalidRequest()
    {
        var request = Request("hi") with { Messages = [ChatMessage.FromText(ChatRole.User, "hi"), new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_unknown", Content = [ContentPart.FromText("x")] }] };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(request, _testTimeout.Token));

        Assert.Equal((GatewayError.InvalidRequest, "messages"), (error.Error, error.Param));
        Assert.Contains("name", error.Message);
    }

    // ---- answers: generateContent → canonical ----

    [Fact]
    public async Task GetResponse_FunctionCalls_GetStableIdsAndToolCallsFinish()
    {
        _upstream.Behavior = _ => new UpstreamReply
        {
            ToolCalls = [new UpstreamToolCall("", "get_weather", """{"city":"Paris"}"""), new UpstreamToolCall("", "get_weather", """{"city":"Rome"}""")],
        };

        var response = await CreateGateway().GetResponseAsync(Request("weather?"), _testTimeout.Token);

        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        Assert.Empty(response.Message.Content);
        Assert.Equal(2, response.Message.ToolCalls.Length);
        Assert.Equal($"call_{response.Id}_0", response.Message.ToolCalls[0].Id);
        Assert.Equal($"call_{response.Id}_1", response.Message.ToolCalls[1].Id);
        Assert.Equal(("get_weather", """{"city":"Rome"}"""), (response.Message.ToolCalls[1].Name, response.Message.ToolCalls[1].ArgumentsJson));
    }

    [Fact]
    public async Task ToolRoundTrip_GeneratedIdsMapBackToTheCallsName()
    {
        _upstream.Behavior = request => GeminiUpstreamDouble.HasFunctionResponse(request)
            ? new UpstreamReply { Text = "it is sunny" }
            : new UpstreamReply { ToolCalls = [new UpstreamToolCall("", "get_weather", """{"city":"Paris"}""")] };
        var gateway = CreateGateway();
        var request = Request("weather?") with { Tools = [new ToolDefinition { Name = "get_weather", ParametersJson = WeatherSchema }] };

        var first = await gateway.GetResponseAsync(request, _testTimeout.Token);
        var call = Assert.Single(first.Message.ToolCalls);
        var second = await gateway.GetResponseAsync(
            request with { Messages = [.. request.Messages, first.Message, new ChatMessage { Role = ChatRole.Tool, ToolCallId = call.Id, Content = [ContentPart.FromText("sunny")] }] },
            _testTimeout.Token);

        Assert.Equal("it is sunny", second.Message.Text);
        Assert.Equal(
            """{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}]}""",
            _upstream.LastRequest.Json!["contents"]![2]!.ToJsonString());
    }

    [Theory]
    [InlineData("STOP", FinishReason.Stop)]
    [InlineData("MAX_TOKENS", FinishReason.Length)]
    [InlineData("SAFETY", FinishReason.ContentFilter)]
    [InlineData("RECITATION", FinishReason.ContentFilter)]
    [InlineData("BLOCKLIST", FinishReason.ContentFilter)]
    [InlineData("PROHIBITED_CONTENT", FinishReason.ContentFilter)]
    [InlineData("SPII", FinishReason.ContentFilter)]
    [InlineData("OTHER", FinishReason.Stop)]
    public async Task Call_FinishReason_IsMapped_StreamingAndNot(string geminiReason, FinishReason expected)
    {
        _upstream.Behavior = _ => new UpstreamReply { Text = "a partial answer", FinishReason = geminiReason };
        var gateway = CreateGateway();

        var response = await gateway.GetResponseAsync(Request("x"), _testTimeout.Token);
        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(expected, response.FinishReason);
        Assert.Equal(expected, Assert.Single(chunks, c => c.FinishReason is not null).FinishReason);
        if (expected == FinishReason.ContentFilter)
        {
            Assert.Equal(2, _logs.Entries.Count(e => e.Contains($"stopped the answer for its content (finishReason {geminiReason})", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Call_PromptBlocked_IsInvalidRequestNamingTheBlockReason_StreamingAndNot()
    {
        _upstream.Behavior = _ => GeminiReplies.PromptBlocked("PROHIBITED_CONTENT");
        var gateway = CreateGateway();

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("x"), _testTimeout.Token));
        var streamed = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("x"), _testTimeout.Token)));

        foreach (var e in new[] { error, streamed })
        {
            Assert.Equal((GatewayError.InvalidRequest, "messages"), (e.Error, e.Param));
            Assert.Equal("provider 'gemini' blocked the prompt for its content (promptFeedback.blockReason PROHIBITED_CONTENT)", e.Message);
        }
    }

    [Fact]
    public async Task Call_MalformedFunctionCall_IsUpstreamFailed()
    {
        _upstream.Behavior = _ => new UpstreamReply { Text = "", FinishReason = "MALFORMED_FUNCTION_CALL" };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("MALFORMED_FUNCTION_CALL", error.Message);
    }

    [Fact]
    public async Task Call_ThinkingModel_CountsThoughtsAsCompletionTokens()
    {
        _upstream.ThoughtsTokens = 100;
        _upstream.Behavior = _ => new UpstreamReply { PromptTokens = 10, CompletionTokens = 5 };
        var gateway = CreateGateway();

        var response = await gateway.GetResponseAsync(Request("x"), _testTimeout.Token);
        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(Request("x") with { IncludeUsage = true }, _testTimeout.Token));

        Assert.Equal(new Usage { PromptTokens = 10, CompletionTokens = 105 }, response.Usage);
        Assert.Equal(new Usage { PromptTokens = 10, CompletionTokens = 105 }, chunks[^1].Usage);
    }

    [Fact]
    public async Task GetResponse_ThoughtPartsAndUsageCache_AreReadAsGeminiSendsThem()
    {
        _upstream.Behavior = _ => new UpstreamReply
        {
            Body = """{"candidates":[{"content":{"parts":[{"text":"thinking about it","thought":true},{"text":"the answer"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":3,"cachedContentTokenCount":8,"totalTokenCount":15},"modelVersion":"gemini-2.5-pro"}""",
        };

        var response = await CreateGateway().GetResponseAsync(Request("x"), _testTimeout.Token);

        Assert.Equal("the answer", response.Message.Text);
        Assert.Equal(new Usage { PromptTokens = 12, CompletionTokens = 3, CachedPromptTokens = 8 }, response.Usage);
        Assert.Equal("gemini-2.5-pro", response.Model);
        Assert.StartsWith("gemini-", response.Id);
    }

    [Fact]
    public async Task GetResponse_AnswerWithoutFinishReason_IsUpstreamFailed()
    {
        _upstream.Behavior = _ => new UpstreamReply { Body = """{"candidates":[{"content":{"parts":[{"text":"cut"}],"role":"model"},"index":0}]}""" };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("could not read", error.Message);
    }

    // ---- streaming ----

    [Fact]
    public async Task GetStreamingResponse_Sse_StreamsTextToolCallFinishAndUsage()
    {
        _upstream.Behavior = _ => new UpstreamReply { Text = "sure, checking the weather", ToolCalls = [new UpstreamToolCall("", "get_weather", """{"city":"Paris"}""")], PromptTokens = 9, CompletionTokens = 4 };

        var chunks = await CollectAsync(CreateGateway().GetStreamingResponseAsync(Request("hi") with { IncludeUsage = true }, _testTimeout.Token));

        Assert.Equal($"/v1beta/models/{Model}:streamGenerateContent?alt=sse", _upstream.LastRequest.Path);
        Assert.Equal(Key, _upstream.LastRequest.Header("x-goog-api-key"));
        Assert.Equal(ChatRole.Assistant, chunks[0].Role);
        Assert.Single(chunks, c => c.Role is not null);
        Assert.Equal("sure, checking the weather", string.Concat(chunks.Select(c => c.TextDelta)));
        Assert.True(chunks.Count(c => c.TextDelta is not null) > 1);
        var delta = Assert.Single(chunks.SelectMany(c => c.ToolCallDeltas));
        Assert.Equal((0, "get_weather", """{"city":"Paris"}"""), (delta.Index, delta.Name!, delta.ArgumentsDelta!));
        Assert.Equal($"call_{chunks[0].Id}_0", delta.Id);
        Assert.Equal(FinishReason.ToolCalls, Assert.Single(chunks, c => c.FinishReason is not null).FinishReason);
        Assert.Equal(new Usage { PromptTokens = 9, CompletionTokens = 4 }, chunks[^1].Usage);
        Assert.Null(chunks[^1].TextDelta);
        Assert.All(chunks, c => Assert.Equal(chunks[0].Id, c.Id));
        Assert.All(chunks, c => Assert.Equal(GeminiUpstreamDouble.ModelVersion, c.Model));
    }

    [Fact]
    public async Task GetStreamingResponse_WithoutIncludeUsage_SendsNoUsageChunk()
    {
        var chunks = await CollectAsync(CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.All(chunks, c => Assert.Null(c.Usage));
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponse_ConnectionDropsMidAnswer_IsUpstreamFailedAfterTheFirstChunks()
    {
        // The double resets the connection only once the first chunk was read: a reset may discard bytes not read yet.
        var readFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Behavior = _ => new UpstreamReply { Text = "a long answer the upstream cuts short", AbortAfterEvents = 2, AbortWhen = readFirst.Task };
        var received = new List<ChatChunk>();

        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token))
            {
                received.Add(chunk);
                readFirst.TrySetResult();
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("broke during the answer", error.Message);
        Assert.Equal("a long answer th", string.Concat(received.Select(c => c.TextDelta)));
    }

    [Fact]
    public async Task GetStreamingResponse_ErrorEventMidStream_IsClassifiedByItsCode()
    {
        _upstream.Behavior = _ => new UpstreamReply { Fault = UpstreamFault.ErrorEventMidStream, Text = "Request contains an invalid argument." };
        var received = new List<ChatChunk>();

        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in CreateGateway().GetStreamingResponseAsync(Request("hi"), _testTimeout.Token))
            {
                received.Add(chunk);
            }
        });

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("provider 'gemini' rejected the request (HTTP 400): Request contains an invalid argument.", error.Message);
        Assert.Equal("an answer that ", string.Concat(received.Select(c => c.TextDelta)));
    }

    [Fact]
    public async Task GetStreamingResponse_UsageOnAnEventAfterTheFinish_IsTheUsageChunk()
    {
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(
                "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"done\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":1}}\r\n\r\n"
                + "data: {\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2,\"thoughtsTokenCount\":3}}\r\n\r\n");
        });

        var chunks = await CollectAsync(CreateGateway(o => o.BaseUrl = server.BaseAddress.ToString()).GetStreamingResponseAsync(Request("x") with { IncludeUsage = true }, _testTimeout.Token));

        Assert.Equal("done", string.Concat(chunks.Select(c => c.TextDelta)));
        Assert.Equal(new Usage { PromptTokens = 4, CompletionTokens = 5 }, Assert.Single(chunks, c => c.Usage is not null).Usage);
        Assert.Same(chunks[^1], Assert.Single(chunks, c => c.Usage is not null));
    }

    [Theory]
    [InlineData(429, "RESOURCE_EXHAUSTED", GatewayError.RateLimited)]
    [InlineData(503, "UNAVAILABLE", GatewayError.UpstreamFailed)]
    [InlineData(403, "PERMISSION_DENIED", GatewayError.UpstreamAuthFailed)]
    public async Task GetResponse_ErrorEnvelopeIn200_IsClassifiedByItsCode(int code, string status, GatewayError expected)
    {
        _upstream.Behavior = _ => new UpstreamReply { Body = GeminiReplies.Envelope(code, status, "from a proxy") };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("x"), _testTimeout.Token));

        Assert.Equal((expected, code), (error.Error, error.UpstreamStatus));
    }

    // ---- errors ----

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT", GatewayError.InvalidRequest)]
    [InlineData(400, "FAILED_PRECONDITION", GatewayError.InvalidRequest)]
    [InlineData(404, "NOT_FOUND", GatewayError.InvalidRequest)]
    [InlineData(401, "UNAUTHENTICATED", GatewayError.UpstreamAuthFailed)]
    [InlineData(403, "PERMISSION_DENIED", GatewayError.UpstreamAuthFailed)]
    [InlineData(429, "RESOURCE_EXHAUSTED", GatewayError.RateLimited)]
    [InlineData(500, "INTERNAL", GatewayError.UpstreamFailed)]
    [InlineData(503, "UNAVAILABLE", GatewayError.UpstreamFailed)]
    [InlineData(504, "DEADLINE_EXCEEDED", GatewayError.UpstreamFailed)]
    public async Task Call_ErrorStatus_IsClassifiedAsEveryAdapterClassifiesIt_StreamingAndNot(int status, string googleStatus, GatewayError expected)
    {
        _upstream.Behavior = _ => GeminiReplies.Error(status, googleStatus, "upstream says no");
        var gateway = CreateGateway();

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hi"), _testTimeout.Token));
        var streamed = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("hi"), _testTimeout.Token)));

        foreach (var e in new[] { error, streamed })
        {
            Assert.Equal(expected, e.Error);
            Assert.Equal(status, e.UpstreamStatus);
            Assert.Equal(expected == GatewayError.InvalidRequest, e.Message.Contains("upstream says no", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Call_ResourceExhaustedWithRetryInfo_IsRateLimitedWithItsRetryDelay()
    {
        _upstream.Behavior = _ => GeminiReplies.ResourceExhausted("20s");

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.RateLimited, error.Error);
        Assert.Equal(TimeSpan.FromSeconds(20), error.RetryAfter);
    }

    [Fact]
    public async Task Call_RetryAfterHeader_WinsOverRetryInfo()
    {
        _upstream.Behavior = _ => GeminiReplies.ResourceExhausted("20s") with { Headers = new Dictionary<string, string> { ["retry-after"] = "3" } };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
    }

    [Fact]
    public async Task Call_UnavailableWithFractionalRetryInfo_IsRetryableWithRetryAfter()
    {
        _upstream.Behavior = _ => GeminiReplies.Error(503, "UNAVAILABLE", "overloaded", new JsonArray(new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.RetryInfo", ["retryDelay"] = "1.5s" }));

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(TimeSpan.FromSeconds(1.5), error.RetryAfter);
    }

    [Fact]
    public async Task Call_WrongKey_IsUpstreamAuthFailedNotTheCallersBadRequest_AndNeverShowsTheKey()
    {
        const string wrongKey = "gm-FAKE-wrong-key-9876543210";
        var gateway = CreateGateway(o => o.ApiKey = wrongKey);

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hi"), _testTimeout.Token));
        var streamed = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("hi"), _testTimeout.Token)));

        foreach (var e in new[] { error, streamed })
        {
            Assert.Equal(GatewayError.UpstreamAuthFailed, e.Error);
            Assert.Equal(400, e.UpstreamStatus);
            Assert.Equal("provider 'gemini' rejected the gateway's credentials (HTTP 400, API_KEY_INVALID)", e.Message);
        }

        Assert.All(_logs.Entries, line => Assert.DoesNotContain(wrongKey, line));
    }

    [Fact]
    public async Task Call_UpstreamQuotesTheKey_KeyIsRedactedFromMessageAndLogs()
    {
        _upstream.Behavior = _ => GeminiReplies.InvalidArgument($"bad header x-goog-api-key: {Key} and again {Key}");
        var gateway = CreateGateway();

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hi"), _testTimeout.Token));
        var streamed = await Assert.ThrowsAsync<GatewayException>(() => CollectAsync(gateway.GetStreamingResponseAsync(Request("hi"), _testTimeout.Token)));

        foreach (var e in new[] { error, streamed })
        {
            Assert.Equal(GatewayError.InvalidRequest, e.Error);
            Assert.DoesNotContain(Key, e.Message);
            Assert.DoesNotContain(Key, e.ToString());
            Assert.Contains(UpstreamRedactor.Mask, e.Message);
        }

        Assert.NotEmpty(_logs.Entries);
        Assert.All(_logs.Entries, line => Assert.DoesNotContain(Key, line));
    }

    [Fact]
    public async Task Call_AnotherProvidersKeyQuoted_IsRedactedToo()
    {
        const string otherKey = "sk-FAKE-other-provider-key-0123";
        _upstream.Behavior = _ => GeminiReplies.InvalidArgument($"you also sent {otherKey}");
        var redactor = new UpstreamRedactor([Key, otherKey]);
        var options = Options();
        var gateway = new GeminiChatGatewayFactory().Create("gemini", options, redactor);
        _gateways.Add(gateway);

        var error = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.DoesNotContain(otherKey, error.Message);
    }

    [Fact]
    public async Task GetResponse_ConnectionRefused_IsUpstreamFailed()
    {
        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.BaseUrl = $"http://127.0.0.1:{TestPorts.Closed()}").GetResponseAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("could not connect", error.Message);
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

    [Fact]
    public void Create_WithoutKey_Throws()
    {
        var options = Options();
        options.ApiKey = null;

        var error = Assert.Throws<InvalidOperationException>(() => new GeminiChatGatewayFactory().Create("gemini", options));

        Assert.Contains("ApiKey is required", error.Message);
    }

    private ProviderOptions Options() => new() { Kind = ProviderKinds.Gemini, BaseUrl = _upstream.BaseUrl, ApiKey = Key, TimeoutSeconds = 10 };

    private IChatGateway CreateGateway(Action<ProviderOptions>? configure = null)
    {
        var options = Options();
        configure?.Invoke(options);
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        var gateway = new GeminiChatGatewayFactory(TimeProvider.System, loggerFactory).Create("gemini", options);
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
