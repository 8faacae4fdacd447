using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using OpenAI;
using OpenAI.Chat;
using AnthropicTool = Anthropic.Models.Messages.Tool;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// The official OpenAI and Anthropic .NET SDKs against the real silo process, each served by the other vendor's
/// upstream double: the canonical model translates requests, answers, stream events, tool calls and errors both ways.
/// </summary>
[Collection(CrossProtocolCollection.Name)]
public sealed class CrossProtocolEndToEndTests(CrossProtocolFixture fixture)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    // ---- OpenAI SDK client → Anthropic upstream ----

    [Fact]
    public async Task OpenAISdk_AnthropicUpstream_ToolRoundTripReachesAnthropicAsToolResult()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var chat = OpenAIChat("claude");
        var options = new ChatCompletionOptions { Tools = { WeatherTool() } };
        List<OpenAI.Chat.ChatMessage> messages = [new SystemChatMessage("be brief"), new UserChatMessage("weather in Paris?")];

        var first = await chat.CompleteChatAsync(messages, options, timeout.Token);

        Assert.Equal(ChatFinishReason.ToolCalls, first.Value.FinishReason);
        var call = Assert.Single(first.Value.ToolCalls);
        Assert.Equal(CrossProtocolFixture.AnthropicToolId, call.Id);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"Paris"}""", call.FunctionArguments.ToString());
        Assert.Equal("anthropic", Header(first, "x-gatehouse-provider"));
        Assert.Equal("claude-sonnet-4-5", Header(first, "x-gatehouse-model"));

        messages.Add(new AssistantChatMessage(first.Value.ToolCalls));
        messages.Add(new ToolChatMessage(call.Id, "sunny, 21 C"));
        var second = await chat.CompleteChatAsync(messages, options, timeout.Token);

        Assert.Equal(ChatFinishReason.Stop, second.Value.FinishReason);
        Assert.Equal(13, second.Value.Usage.InputTokenCount);
        Assert.Equal(5, second.Value.Usage.OutputTokenCount);
        var sent = fixture.Anthropic.Requests.Last(r => r.Tag == "main" && r.Body.Contains("sunny, 21 C"));
        Assert.Equal(CrossProtocolFixture.AnthropicProviderKey, sent.Header("x-api-key"));
        Assert.Equal("2023-06-01", sent.Header("anthropic-version"));
        Assert.Equal("be brief", sent.Json!["system"]!.GetValue<string>());
        Assert.Equal(4096, sent.Json!["max_tokens"]!.GetValue<int>());
        Assert.Equal(WeatherSchema, sent.Json!["tools"]![0]!["input_schema"]!.ToJsonString());
        var turns = sent.Json!["messages"]!.AsArray();
        Assert.Equal(3, turns.Count);
        Assert.Equal(
            $$$"""{"role":"assistant","content":[{"type":"tool_use","id":"{{{CrossProtocolFixture.AnthropicToolId}}}","name":"get_weather","input":{"city":"Paris"}}]}""",
            turns[1]!.ToJsonString());
        Assert.Equal(
            $$$"""{"role":"user","content":[{"type":"tool_result","tool_use_id":"{{{CrossProtocolFixture.AnthropicToolId}}}","content":"sunny, 21 C"}]}""",
            turns[2]!.ToJsonString());
    }

    [Fact]
    public async Task OpenAISdkStreaming_AnthropicUpstream_StreamsToolCallThenTextWithUsage()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var chat = OpenAIChat("claude");
        var options = new ChatCompletionOptions { Tools = { WeatherTool() } };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("weather in Paris?")];

        string? id = null, name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options, timeout.Token))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                id ??= tool.ToolCallId;
                name ??= tool.FunctionName;
                arguments.Append(tool.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(CrossProtocolFixture.AnthropicToolId, id);
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"Paris"}""", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);

        messages.Add(new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall(id, name, BinaryData.FromString(arguments.ToString()))]));
        messages.Add(new ToolChatMessage(id, "rainy"));
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options, timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.StartsWith("echo: ", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(13, usage.InputTokenCount);
        Assert.Equal(5, usage.OutputTokenCount);
        var sent = fixture.Anthropic.Requests.Last(r => r.Tag == "main" && r.Body.Contains("rainy"));
        Assert.True(sent.Stream);
        Assert.Equal("tool_result", sent.Json!["messages"]![2]!["content"]![0]!["type"]!.GetValue<string>());
    }

    // ---- Anthropic SDK client → OpenAI upstream ----

    [Fact]
    public async Task AnthropicSdk_OpenAIUpstream_ToolRoundTripReachesOpenAIAsToolMessage()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var client = AnthropicSdk();
        List<MessageParam> messages = [new UserMessageParam("weather in Paris?")];

        var first = await client.Messages.Create(WeatherParams("gpt", messages), timeout.Token);

        Assert.Equal("tool_use", first.StopReason!.Raw());
        var toolUse = first.Content.Select(b => b.Json).Single(b => b.GetProperty("type").GetString() == "tool_use");
        Assert.Equal(CrossProtocolFixture.OpenAIToolId, toolUse.GetProperty("id").GetString());
        Assert.Equal("get_weather", toolUse.GetProperty("name").GetString());
        Assert.Equal("Paris", toolUse.GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("gpt-4o-mini", first.Model.Raw());

        messages.Add(new AssistantMessageParam(new List<ContentBlockParam>
        {
            new ToolUseBlockParam
            {
                ID = toolUse.GetProperty("id").GetString()!,
                Name = "get_weather",
                Input = toolUse.GetProperty("input").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
            },
        }));
        messages.Add(new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(CrossProtocolFixture.OpenAIToolId) { Content = "sunny" } }));
        var second = await client.Messages.Create(WeatherParams("gpt", messages), timeout.Token);

        Assert.Equal("end_turn", second.StopReason!.Raw());
        Assert.Equal(11, second.Usage.InputTokens);
        Assert.Equal(7, second.Usage.OutputTokens);
        var sent = fixture.OpenAI.Requests.Last(r => r.Tag == "main" && r.Body.Contains("sunny"));
        Assert.Equal("Bearer " + CrossProtocolFixture.OpenAIProviderKey, sent.Header("authorization"));
        var turns = sent.Json!["messages"]!.AsArray();
        Assert.Equal(3, turns.Count);
        Assert.Equal(CrossProtocolFixture.OpenAIToolId, turns[1]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("tool", turns[2]!["role"]!.GetValue<string>());
        Assert.Equal(CrossProtocolFixture.OpenAIToolId, turns[2]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal("sunny", turns[2]!["content"]!.GetValue<string>());
        Assert.Equal("required", sent.Json!["tool_choice"]!.GetValue<string>());
        Assert.Equal(100, sent.Json!["max_completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnthropicSdkStreaming_OpenAIUpstream_StreamsFullEventSequenceForToolUseThenText()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var client = AnthropicSdk();
        List<MessageParam> messages = [new UserMessageParam("weather in Paris?")];

        var events = await CollectEventsAsync(client.Messages.CreateStreaming(WeatherParams("gpt", messages), timeout.Token));

        Assert.Equal("message_start", events[0].GetProperty("type").GetString());
        Assert.Equal("message_stop", events[^1].GetProperty("type").GetString());
        var start = events.Single(e => e.GetProperty("type").GetString() == "content_block_start").GetProperty("content_block");
        Assert.Equal("tool_use", start.GetProperty("type").GetString());
        Assert.Equal(CrossProtocolFixture.OpenAIToolId, start.GetProperty("id").GetString());
        var json = string.Concat(events
            .Where(e => e.GetProperty("type").GetString() == "content_block_delta")
            .Select(e => e.GetProperty("delta"))
            .Where(d => d.GetProperty("type").GetString() == "input_json_delta")
            .Select(d => d.GetProperty("partial_json").GetString()));
        Assert.Equal("""{"city":"Paris"}""", json);
        var delta = events.Single(e => e.GetProperty("type").GetString() == "message_delta");
        Assert.Equal("tool_use", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(7, delta.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        messages.Add(new AssistantMessageParam(new List<ContentBlockParam>
        {
            new ToolUseBlockParam
            {
                ID = CrossProtocolFixture.OpenAIToolId,
                Name = "get_weather",
                Input = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement("Paris") },
            },
        }));
        messages.Add(new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(CrossProtocolFixture.OpenAIToolId) { Content = "cloudy" } }));
        var answer = await CollectEventsAsync(client.Messages.CreateStreaming(WeatherParams("gpt", messages), timeout.Token));

        var text = string.Concat(answer
            .Where(e => e.GetProperty("type").GetString() == "content_block_delta")
            .Select(e => e.GetProperty("delta"))
            .Where(d => d.GetProperty("type").GetString() == "text_delta")
            .Select(d => d.GetProperty("text").GetString()));
        Assert.StartsWith("echo: ", text);
        Assert.Equal(
            ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            answer.Select(e => e.GetProperty("type").GetString()!).Distinct().ToArray());
        var sent = fixture.OpenAI.Requests.Last(r => r.Tag == "main" && r.Body.Contains("cloudy"));
        Assert.True(sent.Stream);
        Assert.Equal("tool", sent.Json!["messages"]![2]!["role"]!.GetValue<string>());
    }

    // ---- errors from the Anthropic adapter, in each front end's envelope ----

    [Fact]
    public async Task AnthropicSdk_AnthropicUpstreamOverloaded_Is503OverloadedError()
    {
        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => SimpleAnthropicCall("claude-overloaded"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        AssertAnthropicEnvelope(error.ResponseBody, "overloaded_error");
    }

    [Fact]
    public async Task AnthropicSdk_AnthropicUpstreamOverloaded_FallsBackToOpenAI()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var client = AnthropicSdk();

        var message = await client.Messages.WithRawResponse.Create(
            new MessageCreateParams { Model = "claude-overloaded-then-gpt", MaxTokens = 50, Messages = [new UserMessageParam("fallback please")] },
            timeout.Token);
        var answer = await message.Deserialize(timeout.Token);

        Assert.Equal("echo: fallback please", answer.Content.Single().Json.GetProperty("text").GetString());
        Assert.Equal("openai", message.RawMessage.Headers.GetValues("x-gatehouse-provider").Single());
        Assert.Equal("2", message.RawMessage.Headers.GetValues("x-gatehouse-attempts").Single());
    }

    [Fact]
    public async Task OpenAISdk_AnthropicUpstreamRejectsGatewayKey_Is502MentioningCredentials()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => OpenAIChat("claude-badkey").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(502, error.Status);
        var body = error.GetRawResponse()!.Content.ToString();
        Assert.Contains("credentials", body);
        Assert.DoesNotContain(CrossProtocolFixture.AnthropicProviderKey, body);
        Assert.DoesNotContain(CrossProtocolFixture.AnthropicProviderKey, fixture.Silo.Output);
    }

    [Fact]
    public async Task AnthropicSdk_AnthropicUpstreamRejectsGatewayKey_Is502ApiError()
    {
        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => SimpleAnthropicCall("claude-badkey"));

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Contains("credentials", AssertAnthropicEnvelope(error.ResponseBody, "api_error"));
    }

    [Fact]
    public async Task OpenAISdk_AnthropicUpstreamBadRequest_Is400InOpenAIEnvelope()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => OpenAIChat("claude-badreq").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(400, error.Status);
        using var body = JsonDocument.Parse(error.GetRawResponse()!.Content.ToString());
        Assert.Equal("invalid_request_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("text content blocks must be non-empty", body.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnthropicSdk_AnthropicUpstreamBadRequest_Is400InvalidRequestError()
    {
        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => SimpleAnthropicCall("claude-badreq"));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("text content blocks must be non-empty", AssertAnthropicEnvelope(error.ResponseBody, "invalid_request_error"));
    }

    [Fact]
    public async Task OpenAISdk_AnthropicPromptTooLong_Is400ContextLengthExceeded()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => OpenAIChat("claude-toolong").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(400, error.Status);
        using var body = JsonDocument.Parse(error.GetRawResponse()!.Content.ToString());
        Assert.Equal("context_length_exceeded", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task AnthropicSdk_AnthropicPromptTooLong_Is400InvalidRequestError()
    {
        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => SimpleAnthropicCall("claude-toolong"));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("prompt is too long", AssertAnthropicEnvelope(error.ResponseBody, "invalid_request_error"));
    }

    [Fact]
    public async Task Messages_AnthropicUpstreamRateLimited_Is429WithRetryAfter()
    {
        using var response = await PostMessagesAsync("""{"model":"claude-ratelimited","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(CrossProtocolFixture.RetryAfterSeconds), response.Headers.RetryAfter!.Delta);
        AssertAnthropicEnvelope(await response.Content.ReadAsStringAsync(), "rate_limit_error");
    }

    [Fact]
    public async Task AnthropicSdk_OpenAIUpstreamFails_Is502ApiError()
    {
        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => SimpleAnthropicCall("gpt-flaky"));

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Contains("HTTP 500", AssertAnthropicEnvelope(error.ResponseBody, "api_error"));
    }

    [Fact]
    public async Task MessagesStreaming_UpstreamFailsAfterFirstEvent_EndsWithErrorEventAndDoesNotFailOver()
    {
        var gptBefore = fixture.OpenAI.RequestCountFor("main");

        using var response = await PostMessagesAsync("""{"model":"claude-cut","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("event: message_start\ndata: ", body);
        Assert.EndsWith("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"provider 'anthropic-cut' failed (HTTP 529)\"}}\n\n", body);
        Assert.DoesNotContain("message_stop", body);
        Assert.Equal(gptBefore, fixture.OpenAI.RequestCountFor("main"));
    }

    [Fact]
    public async Task ChatCompletionsStreaming_AnthropicUpstreamFailsAfterFirstEvent_EndsWithOpenAIErrorEvent()
    {
        using var http = new HttpClient { Timeout = CallTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"claude-cut","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", CrossProtocolFixture.AppKey);

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"error\":{\"message\":\"provider 'anthropic-cut' failed (HTTP 529)\"", body);
        Assert.DoesNotContain("[DONE]", body);
    }

    // ---- the /v1/messages front end's own checks ----

    [Fact]
    public async Task Messages_WrongKey_Is401AuthenticationError()
    {
        using var response = await PostMessagesAsync("""{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", key: "gk-wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        AssertAnthropicEnvelope(await response.Content.ReadAsStringAsync(), "authentication_error");
    }

    [Fact]
    public async Task Messages_UnknownModel_Is404NotFoundError()
    {
        using var response = await PostMessagesAsync("""{"model":"nope","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertAnthropicEnvelope(await response.Content.ReadAsStringAsync(), "not_found_error");
    }

    [Fact]
    public async Task Messages_MissingMaxTokens_Is400NamingIt()
    {
        using var response = await PostMessagesAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("max_tokens", AssertAnthropicEnvelope(await response.Content.ReadAsStringAsync(), "invalid_request_error"));
    }

    [Fact]
    public async Task Messages_XApiKeyAndAnyVersionHeader_AnswersWithRouteHeaders()
    {
        using var response = await PostMessagesAsync(
            """{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"via x-api-key"}]}""", useXApiKey: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("anthropic", response.Headers.GetValues("x-gatehouse-provider").Single());
        Assert.Equal("1", response.Headers.GetValues("x-gatehouse-attempts").Single());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("message", body["type"]!.GetValue<string>());
        Assert.Equal("echo: via x-api-key", body["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("end_turn", body["stop_reason"]!.GetValue<string>());
    }

    private ChatClient OpenAIChat(string model) => new OpenAIClient(
        new ApiKeyCredential(CrossProtocolFixture.AppKey),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.Silo.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) }).GetChatClient(model);

    private AnthropicClient AnthropicSdk() => new() { BaseUrl = fixture.Silo.BaseUrl, ApiKey = CrossProtocolFixture.AppKey, MaxRetries = 0 };

    private async Task SimpleAnthropicCall(string model)
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var client = AnthropicSdk();
        await client.Messages.Create(new MessageCreateParams { Model = model, MaxTokens = 50, Messages = [new UserMessageParam("hi")] }, timeout.Token);
    }

    private static ChatTool WeatherTool() =>
        ChatTool.CreateFunctionTool("get_weather", "Weather by city", BinaryData.FromString(WeatherSchema));

    private static MessageCreateParams WeatherParams(string model, List<MessageParam> messages) => new()
    {
        Model = model,
        MaxTokens = 100,
        Messages = [.. messages],
        Tools =
        [
            new AnthropicTool
            {
                Name = "get_weather",
                Description = "Weather by city",
                InputSchema = new InputSchema
                {
                    Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
                    Required = ["city"],
                },
            },
        ],
        ToolChoice = new ToolChoiceAny(),
    };

    private static async Task<List<JsonElement>> CollectEventsAsync(IAsyncEnumerable<RawMessageStreamEvent> stream)
    {
        var events = new List<JsonElement>();
        await foreach (var e in stream)
        {
            events.Add(e.Json.Clone());
        }

        return events;
    }

    private async Task<HttpResponseMessage> PostMessagesAsync(string json, string key = CrossProtocolFixture.AppKey, bool useXApiKey = false)
    {
        using var http = new HttpClient { Timeout = CallTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + "/v1/messages")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2099-01-01");
        request.Headers.Add("anthropic-beta", "some-beta-2099");
        if (useXApiKey)
        {
            request.Headers.Add("x-api-key", key);
        }
        else
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        return await http.SendAsync(request);
    }

    private static string Header(ClientResult result, string name) =>
        result.GetRawResponse().Headers.TryGetValue(name, out var value) ? value! : "";

    /// <summary>Checks Anthropic's error envelope and returns its message.</summary>
    private static string AssertAnthropicEnvelope(string body, string type)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        Assert.Equal(type, root.GetProperty("error").GetProperty("type").GetString());
        var message = root.GetProperty("error").GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain("   at ", body);
        return message!;
    }
}
