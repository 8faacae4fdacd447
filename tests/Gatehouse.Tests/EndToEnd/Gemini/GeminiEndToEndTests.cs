using System.ClientModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic.Models.Messages;
using Gatehouse.Tests.Doubles;
using OpenAI.Chat;
using OpenAI.Responses;

namespace Gatehouse.Tests.EndToEnd.Gemini;

/// <summary>
/// The official OpenAI and Anthropic .NET SDKs, and the OpenAI SDK's Responses client, against the real silo process,
/// answered by the Gemini upstream double through the canonical model; and Gemini as the fallback of a failing OpenAI alias.
/// </summary>
[Collection(GeminiCollection.Name)]
public sealed class GeminiEndToEndTests(GeminiFixture fixture)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    // ---- OpenAI SDK, Chat Completions ----

    [Fact]
    public async Task OpenAISdk_Chat_AnsweredByGemini()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);

        var result = await fixture.OpenAIChat("gemini").CompleteChatAsync(
            [new SystemChatMessage("be brief"), new UserChatMessage("hello gemini chat")],
            new ChatCompletionOptions { Temperature = 0.5f, MaxOutputTokenCount = 64 },
            timeout.Token);

        Assert.Equal("echo: hello gemini chat", result.Value.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, result.Value.FinishReason);
        Assert.Equal((17, 9), (result.Value.Usage.InputTokenCount, result.Value.Usage.OutputTokenCount));
        Assert.Equal("gemini", Header(result, "x-gatehouse-provider"));
        Assert.Equal(GeminiUpstreamDouble.ModelVersion, Header(result, "x-gatehouse-model"));
        var sent = fixture.Gemini.Requests.Last(r => r.Body.Contains("hello gemini chat"));
        Assert.Equal($"/v1beta/models/{GeminiFixture.GeminiModel}:generateContent", sent.Path);
        Assert.Equal(GeminiFixture.GeminiProviderKey, sent.Header("x-goog-api-key"));
        Assert.Null(sent.Header("authorization"));
        Assert.Equal("""{"parts":[{"text":"be brief"}]}""", sent.Json!["systemInstruction"]!.ToJsonString());
        Assert.Equal(64, sent.Json!["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
        Assert.Equal(0.5, sent.Json!["generationConfig"]!["temperature"]!.GetValue<double>());
    }

    [Fact]
    public async Task OpenAISdkStreaming_Chat_StreamsGeminisTextWithUsage()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in fixture.OpenAIChat("gemini").CompleteChatStreamingAsync([new UserChatMessage("stream me from gemini please")], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal("echo: stream me from gemini please", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal((17, 9), (usage.InputTokenCount, usage.OutputTokenCount));
        var sent = fixture.Gemini.Requests.Last(r => r.Body.Contains("stream me from gemini please"));
        Assert.Equal($"/v1beta/models/{GeminiFixture.GeminiModel}:streamGenerateContent?alt=sse", sent.Path);
    }

    [Fact]
    public async Task OpenAISdk_ToolRoundTrip_GeminiFunctionCallThenFunctionResponseByName()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var chat = fixture.OpenAIChat("gemini");
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather by city", BinaryData.FromString(WeatherSchema)) } };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("weather in Paris, via gemini?")];

        var first = await chat.CompleteChatAsync(messages, options, timeout.Token);

        Assert.Equal(ChatFinishReason.ToolCalls, first.Value.FinishReason);
        var call = Assert.Single(first.Value.ToolCalls);
        Assert.StartsWith("call_", call.Id);
        Assert.Equal(("get_weather", """{"city":"Paris"}"""), (call.FunctionName, call.FunctionArguments.ToString()));
        var declared = fixture.Gemini.Requests.Last(r => r.Body.Contains("via gemini?"));
        Assert.Equal(WeatherSchema, declared.Json!["tools"]![0]!["functionDeclarations"]![0]!["parametersJsonSchema"]!.ToJsonString());

        messages.Add(new AssistantChatMessage(first.Value.ToolCalls));
        messages.Add(new ToolChatMessage(call.Id, "sunny, 21 C"));
        var second = await chat.CompleteChatAsync(messages, options, timeout.Token);

        Assert.Equal(ChatFinishReason.Stop, second.Value.FinishReason);
        Assert.StartsWith("echo: ", second.Value.Content.Single().Text);
        var sent = fixture.Gemini.Requests.Last(r => r.Body.Contains("sunny, 21 C"));
        var contents = sent.Json!["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c!["role"]!.GetValue<string>()));
        Assert.Equal("""{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}""", contents[1]!["parts"]![0]!.ToJsonString());
        Assert.Equal("""{"functionResponse":{"name":"get_weather","response":{"output":"sunny, 21 C"}}}""", contents[2]!["parts"]![0]!.ToJsonString());
    }

    // ---- Anthropic SDK, Messages ----

    [Fact]
    public async Task AnthropicSdk_Messages_AnsweredByGemini()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var client = fixture.AnthropicSdk();

        var message = await client.Messages.Create(
            new MessageCreateParams { Model = "gemini", MaxTokens = 50, System = "answer in one line", Messages = [new UserMessageParam("hello from anthropic sdk")] },
            timeout.Token);

        Assert.Equal("echo: hello from anthropic sdk", message.Content.Single().Json.GetProperty("text").GetString());
        Assert.Equal("end_turn", message.StopReason!.Raw());
        Assert.Equal((17, 9), (message.Usage.InputTokens, message.Usage.OutputTokens));
        var sent = fixture.Gemini.Requests.Last(r => r.Body.Contains("hello from anthropic sdk"));
        Assert.Equal("""{"parts":[{"text":"answer in one line"}]}""", sent.Json!["systemInstruction"]!.ToJsonString());
        Assert.Equal(50, sent.Json!["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnthropicSdkStreaming_Messages_FullEventSequenceFromGemini()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var client = fixture.AnthropicSdk();
        var events = new List<JsonElement>();

        await foreach (var e in client.Messages.CreateStreaming(
            new MessageCreateParams { Model = "gemini", MaxTokens = 50, Messages = [new UserMessageParam("anthropic stream from gemini")] }, timeout.Token))
        {
            events.Add(e.Json.Clone());
        }

        Assert.Equal("message_start", events[0].GetProperty("type").GetString());
        Assert.Equal("message_stop", events[^1].GetProperty("type").GetString());
        var text = string.Concat(events
            .Where(e => e.GetProperty("type").GetString() == "content_block_delta")
            .Select(e => e.GetProperty("delta").GetProperty("text").GetString()));
        Assert.Equal("echo: anthropic stream from gemini", text);
        var delta = events.Single(e => e.GetProperty("type").GetString() == "message_delta");
        Assert.Equal("end_turn", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(9, delta.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.True(GeminiUpstreamDouble.IsStream(fixture.Gemini.Requests.Last(r => r.Body.Contains("anthropic stream from gemini"))));
    }

    // ---- OpenAI SDK, Responses API ----

    [Fact]
    public async Task ResponsesClient_Text_AnsweredByGemini()
    {
        var response = (await fixture.Responses().CreateResponseAsync(
            new CreateResponseOptions("gemini", [ResponseItem.CreateUserMessageItem("responses via gemini")]) { Instructions = "Answer briefly." })).Value;

        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal("echo: responses via gemini", response.GetOutputText());
        Assert.Equal((17, 9), (response.Usage.InputTokenCount, response.Usage.OutputTokenCount));
        var sent = fixture.Gemini.Requests.Last(r => r.Body.Contains("responses via gemini"));
        Assert.Equal("""{"parts":[{"text":"Answer briefly."}]}""", sent.Json!["systemInstruction"]!.ToJsonString());
    }

    [Fact]
    public async Task ResponsesClientStreaming_Text_CompletesWithGeminisAnswer()
    {
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await fixture.Responses().CreateResponseStreamingAsync(
            new CreateResponseOptions("gemini", [ResponseItem.CreateUserMessageItem("responses streamed via gemini")]) { StreamingEnabled = true }))
        {
            updates.Add(update);
        }

        var text = string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta));
        Assert.Equal("echo: responses streamed via gemini", text);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal("echo: responses streamed via gemini", completed.Response.GetOutputText());
    }

    [Fact]
    public async Task ResponsesClient_FunctionTool_CallThenOutputReachGeminiAsFunctionResponse()
    {
        var client = fixture.Responses();
        var tool = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString(WeatherSchema), strictModeEnabled: false);
        var first = (await client.CreateResponseAsync(new CreateResponseOptions("gemini", [ResponseItem.CreateUserMessageItem("responses tool via gemini")]) { Tools = { tool } })).Value;
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);

        var second = (await client.CreateResponseAsync(new CreateResponseOptions("gemini", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "9 degrees, responses")])
        {
            PreviousResponseId = first.Id,
            Tools = { tool },
        })).Value;

        Assert.Equal(ResponseStatus.Completed, second.Status);
        var sent = fixture.Gemini.Requests.Last(r => r.Body.Contains("9 degrees, responses"));
        Assert.Equal(
            """{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"9 degrees, responses"}}}]}""",
            sent.Json!["contents"]!.AsArray()[^1]!.ToJsonString());
    }

    [Fact]
    public async Task ChatCompletionsStreaming_GeminiErrorAfterFirstText_EndsWithOpenAIErrorEventAndDoesNotFailOver()
    {
        var geminiMainBefore = fixture.Gemini.RequestCountFor(null);
        using var http = new HttpClient { Timeout = CallTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gemini-cut","stream":true,"messages":[{"role":"user","content":"cut me"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", GeminiFixture.AppKey);

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("an answer that ", body);
        Assert.Contains("\"error\":{\"message\":\"provider 'gemini-cut' rejected the request (HTTP 400): Request contains an invalid argument.\"", body);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Equal(geminiMainBefore, fixture.Gemini.RequestCountFor(null));
    }

    // ---- fallback ----

    [Fact]
    public async Task OpenAIAliasUpstreamDown_FallsBackToGemini_EachUpstreamCalledOnce()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var openAIBefore = fixture.OpenAI.RequestCountFor("down");
        var geminiBefore = fixture.Gemini.Requests.Count;

        var result = await fixture.OpenAIChat("gpt-down").CompleteChatAsync([new UserChatMessage("fall back to gemini")], cancellationToken: timeout.Token);

        Assert.Equal("echo: fall back to gemini", result.Value.Content.Single().Text);
        Assert.Equal("gemini", Header(result, "x-gatehouse-provider"));
        Assert.Equal("2", Header(result, "x-gatehouse-attempts"));
        Assert.Equal(openAIBefore + 1, fixture.OpenAI.RequestCountFor("down"));
        Assert.Equal(geminiBefore + 1, fixture.Gemini.Requests.Count);
        Assert.Equal(GeminiFixture.GeminiModel, GeminiUpstreamDouble.ModelOf(fixture.Gemini.LastRequest));
    }

    [Fact]
    public async Task OpenAIAliasUpstreamDown_StreamingFallsBackToGemini()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var openAIBefore = fixture.OpenAI.RequestCountFor("down");
        var text = new StringBuilder();

        await foreach (var update in fixture.OpenAIChat("gpt-down").CompleteChatStreamingAsync([new UserChatMessage("stream falls back to gemini")], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("echo: stream falls back to gemini", text.ToString());
        Assert.Equal(openAIBefore + 1, fixture.OpenAI.RequestCountFor("down"));
        Assert.Single(fixture.Gemini.Requests, r => r.Body.Contains("stream falls back to gemini"));
    }

    private static string Header(ClientResult result, string name) =>
        result.GetRawResponse().Headers.TryGetValue(name, out var value) ? value! : "";
}
