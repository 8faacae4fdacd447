using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers.OpenAI;
using Xunit;

namespace Gatehouse.Tests.Providers.OpenAI;

public sealed class OpenAIWireTests
{
    [Fact]
    public void WriteRequest_RichRequest_WritesExactOpenAIBody()
    {
        var request = new ChatRequest
        {
            Model = "gpt-4o",
            Messages =
            [
                new ChatMessage { Role = ChatRole.System, Content = [ContentPart.FromText("be brief")], Name = "ops" },
                new ChatMessage
                {
                    Role = ChatRole.User,
                    Content =
                    [
                        ContentPart.FromText("what is this?"),
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png", ImageDetail = "low" },
                        new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,iVBORw==" },
                    ],
                },
                new ChatMessage
                {
                    Role = ChatRole.Assistant,
                    Content = [ContentPart.FromText("let me look")],
                    ToolCalls = [new ToolCall { Id = "call_9", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }],
                },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_9", Content = [ContentPart.FromText("a cat")] },
                ChatMessage.FromText(ChatRole.Assistant, "It is a cat."),
            ],
            Temperature = 0.25,
            TopP = 0.5,
            MaxTokens = 42,
            Stop = ["END", "STOP"],
            Seed = 7,
            PresencePenalty = 0.5,
            FrequencyPenalty = -0.5,
            User = "end-user-1",
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = """{"type":"object"}""", Strict = true },
            Tools = [new ToolDefinition { Name = "lookup", Description = "Looks up", ParametersJson = """{"type":"object","properties":{"q":{"type":"string"}}}""", Strict = true }],
            ParallelToolCalls = false,
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "lookup" },
            IncludeUsage = false,
        };

        var json = Write(request, stream: true, legacyMaxTokens: false);

        Assert.Equal(
            """
            {"model":"gpt-4o","messages":[{"role":"system","content":"be brief","name":"ops"},{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw=="}}]},{"role":"assistant","content":"let me look","tool_calls":[{"id":"call_9","type":"function","function":{"name":"lookup","arguments":"{\u0022q\u0022:\u0022cat\u0022}"}}]},{"role":"tool","tool_call_id":"call_9","content":"a cat"},{"role":"assistant","content":"It is a cat."}],"temperature":0.25,"top_p":0.5,"max_completion_tokens":42,"stop":["END","STOP"],"seed":7,"presence_penalty":0.5,"frequency_penalty":-0.5,"user":"end-user-1","response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true}},"tools":[{"type":"function","function":{"name":"lookup","description":"Looks up","parameters":{"type":"object","properties":{"q":{"type":"string"}}},"strict":true}}],"parallel_tool_calls":false,"tool_choice":{"type":"function","function":{"name":"lookup"}},"stream":true,"stream_options":{"include_usage":true}}
            """,
            json);
    }

    [Fact]
    public void WriteRequest_MinimalNonStreaming_WritesModelAndMessagesOnly()
    {
        Assert.Equal(
            """{"model":"m","messages":[{"role":"user","content":"hi"}]}""",
            Write(Request(), stream: false, legacyMaxTokens: false));
    }

    [Fact]
    public void WriteRequest_LegacyMaxTokens_SendsMaxTokensOnly()
    {
        var json = JsonDocument.Parse(Write(Request() with { MaxTokens = 64 }, stream: false, legacyMaxTokens: true)).RootElement;

        Assert.Equal(64, json.GetProperty("max_tokens").GetInt32());
        Assert.False(json.TryGetProperty("max_completion_tokens", out _));
    }

    [Theory]
    [InlineData(ToolChoiceMode.Auto, "\"auto\"")]
    [InlineData(ToolChoiceMode.None, "\"none\"")]
    [InlineData(ToolChoiceMode.Required, "\"required\"")]
    public void WriteRequest_ToolChoiceMode_WritesOpenAIString(ToolChoiceMode mode, string expectedJson)
    {
        var json = JsonDocument.Parse(Write(
            Request() with { Tools = [new ToolDefinition { Name = "f" }], ToolChoice = new ToolChoice { Mode = mode } },
            stream: false,
            legacyMaxTokens: false)).RootElement;

        Assert.Equal(expectedJson, json.GetProperty("tool_choice").GetRawText());
    }

    [Theory]
    [InlineData(ResponseFormatKind.Text, """{"type":"text"}""")]
    [InlineData(ResponseFormatKind.JsonObject, """{"type":"json_object"}""")]
    public void WriteRequest_ResponseFormat_WritesType(ResponseFormatKind kind, string expectedJson)
    {
        var json = JsonDocument.Parse(Write(Request() with { ResponseFormat = new ResponseFormat { Kind = kind } }, stream: false, legacyMaxTokens: false)).RootElement;

        Assert.Equal(expectedJson, json.GetProperty("response_format").GetRawText());
    }

    [Fact]
    public void WriteRequest_NoTools_OmitsParallelToolCalls()
    {
        var json = JsonDocument.Parse(Write(Request() with { ParallelToolCalls = true }, stream: false, legacyMaxTokens: false)).RootElement;

        Assert.False(json.TryGetProperty("parallel_tool_calls", out _));
    }

    [Fact]
    public void WriteRequest_ToolMessageWithoutCallId_ThrowsInvalidRequest()
    {
        var ex = Assert.Throws<GatewayException>(() =>
            Write(Request() with { Messages = [ChatMessage.FromText(ChatRole.Tool, "result")] }, stream: false, legacyMaxTokens: false));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
    }

    [Theory]
    [InlineData("data:image/png;base64,@@not-base64@@")]
    [InlineData("data:image/png,raw")]
    [InlineData("not a uri")]
    public void WriteRequest_InvalidImage_ThrowsInvalidRequest(string url)
    {
        var message = new ChatMessage { Role = ChatRole.User, Content = [new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = url }] };

        var ex = Assert.Throws<GatewayException>(() => Write(Request() with { Messages = [message] }, stream: false, legacyMaxTokens: false));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
    }

    [Fact]
    public void WriteRequest_InvalidToolSchema_ThrowsInvalidRequest()
    {
        var ex = Assert.Throws<GatewayException>(() =>
            Write(Request() with { Tools = [new ToolDefinition { Name = "f", ParametersJson = "{not json" }] }, stream: false, legacyMaxTokens: false));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.Equal("tools", ex.Param);
    }

    [Fact]
    public void CreateContent_LargeRequest_GrowsThePooledBufferAndKeepsEveryByte()
    {
        var text = new string('x', 100_000);
        using var content = OpenAIWireWriter.CreateContent(Request() with { Messages = [ChatMessage.FromText(ChatRole.User, text)] }, stream: false, legacyMaxTokens: false);

        Assert.True(content.TryComputeLength(out var length));
        using var stream = new MemoryStream();
        content.WriteTo(stream);
        Assert.Equal(length, stream.Length);
        var json = JsonDocument.Parse(stream.ToArray()).RootElement;
        Assert.Equal(text, json.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public void ReadCompletion_TextWithUsage_MapsEverything()
    {
        var response = OpenAIWireReader.ReadCompletion(
            """
            {"id":"chatcmpl-1","object":"chat.completion","created":1732000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"length"}],
             "usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":0}},"service_tier":"default"}
            """u8,
            "requested");

        Assert.NotNull(response);
        Assert.Equal("chatcmpl-1", response.Id);
        Assert.Equal("gpt-4o-2024-08-06", response.Model);
        Assert.Equal(1732000000, response.Created);
        Assert.Equal("fp_1", response.SystemFingerprint);
        Assert.Equal(FinishReason.Length, response.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 21, CompletionTokens = 9 }, response.Usage);
        Assert.Equal(ChatRole.Assistant, response.Message.Role);
        Assert.Equal("Hello!", response.Message.Text);
        Assert.Empty(response.Message.ToolCalls);
    }

    [Fact]
    public void ReadCompletion_ToolCallsWithoutModel_MapsCallsAndRequestedModel()
    {
        var response = OpenAIWireReader.ReadCompletion(
            """
            {"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
              {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
              {"id":"call_2","type":"function","function":{"name":"noop","arguments":""}}]},"finish_reason":"tool_calls"}]}
            """u8,
            "requested");

        Assert.NotNull(response);
        Assert.Equal("requested", response.Model);
        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        Assert.Null(response.Usage);
        Assert.Empty(response.Message.Content);
        Assert.Equal(
            [
                new ToolCall { Id = "call_1", Name = "get_weather", ArgumentsJson = """{"city":"Paris"}""" },
                new ToolCall { Id = "call_2", Name = "noop", ArgumentsJson = "{}" },
            ],
            response.Message.ToolCalls.ToArray());
    }

    [Fact]
    public void ReadCompletion_Refusal_BecomesTheText()
    {
        var response = OpenAIWireReader.ReadCompletion(
            """{"id":"c","model":"m","choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"""u8,
            "m");

        Assert.NotNull(response);
        Assert.Equal("I can't help with that.", response.Message.Text);
    }

    [Theory]
    [InlineData("stop", FinishReason.Stop)]
    [InlineData("length", FinishReason.Length)]
    [InlineData("tool_calls", FinishReason.ToolCalls)]
    [InlineData("function_call", FinishReason.ToolCalls)]
    [InlineData("content_filter", FinishReason.ContentFilter)]
    public void ReadCompletion_FinishReason_Maps(string wire, FinishReason expected)
    {
        var json = $$"""{"id":"c","model":"m","choices":[{"message":{"content":"x"},"finish_reason":"{{wire}}"}]}""";

        Assert.Equal(expected, OpenAIWireReader.ReadCompletion(Encoding.UTF8.GetBytes(json), "m")?.FinishReason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("""{"id":"c","choices":[{"message":{"content":"x"}""")]
    [InlineData("""{"id":1}""")]
    [InlineData("""{}""")]
    [InlineData("""{"id":"c","model":"m","choices":[]}""")]
    [InlineData("""{"id":"c","model":"m","choices":null}""")]
    public void ReadCompletion_NotACompletion_ThrowsJsonException(string json)
    {
        Assert.ThrowsAny<JsonException>(() => OpenAIWireReader.ReadCompletion(Encoding.UTF8.GetBytes(json), "m"));
    }

    [Theory]
    [InlineData("""{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}""")]
    [InlineData("""{"error":"model is loading"}""")]
    public void ReadCompletion_ErrorEnvelope_ReturnsNull(string json)
    {
        Assert.Null(OpenAIWireReader.ReadCompletion(Encoding.UTF8.GetBytes(json), "m"));
    }

    [Fact]
    public void ReadStreamEvent_RoleAndText_MapsChunk()
    {
        var update = OpenAIWireReader.ReadStreamEvent(
            """{"id":"c1","object":"chat.completion.chunk","created":5,"model":"gpt-4o","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}"""u8,
            "requested");

        Assert.Null(update.UsageChunk);
        Assert.Null(update.ErrorJson);
        var chunk = update.Chunk!;
        Assert.Equal("c1", chunk.Id);
        Assert.Equal("gpt-4o", chunk.Model);
        Assert.Equal(5, chunk.Created);
        Assert.Equal("fp", chunk.SystemFingerprint);
        Assert.Equal(ChatRole.Assistant, chunk.Role);
        Assert.Equal("Hi", chunk.TextDelta);
        Assert.Null(chunk.FinishReason);
        Assert.Empty(chunk.ToolCallDeltas);
    }

    [Fact]
    public void ReadStreamEvent_ToolCallDeltas_MapsIndexIdNameAndArguments()
    {
        var first = OpenAIWireReader.ReadStreamEvent(
            """{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}},{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\""}}]},"finish_reason":null}]}"""u8,
            "m");
        var next = OpenAIWireReader.ReadStreamEvent(
            """{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":\"UTC\"}"}}]},"finish_reason":null}]}"""u8,
            "m");

        Assert.Equal(
            [
                new ToolCallDelta { Index = 0, Id = "call_a", Name = "get_weather", ArgumentsDelta = null },
                new ToolCallDelta { Index = 1, Id = "call_b", Name = "get_time", ArgumentsDelta = "{\"tz\"" },
            ],
            first.Chunk!.ToolCallDeltas.ToArray());
        Assert.Equal([new ToolCallDelta { Index = 1, ArgumentsDelta = ":\"UTC\"}" }], next.Chunk!.ToolCallDeltas.ToArray());
    }

    [Fact]
    public void ReadStreamEvent_UsageOnly_ReturnsUsageChunkAndNoContentChunk()
    {
        var update = OpenAIWireReader.ReadStreamEvent(
            """{"id":"c1","model":"m","created":5,"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}"""u8,
            "requested");

        Assert.Null(update.Chunk);
        Assert.Equal(new Usage { PromptTokens = 5, CompletionTokens = 3 }, update.UsageChunk!.Usage);
        Assert.Equal("c1", update.UsageChunk.Id);
        Assert.Equal("m", update.UsageChunk.Model);
        Assert.Null(update.UsageChunk.TextDelta);
    }

    [Theory]
    [InlineData("""{"prompt_tokens":50,"completion_tokens":3,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":32}}""", 32)]
    [InlineData("""{"prompt_tokens_details":{"cached_tokens":32,"extra":{"nested":[1]}},"prompt_tokens":50,"completion_tokens":3}""", 32)]
    [InlineData("""{"prompt_tokens":50,"completion_tokens":3,"prompt_tokens_details":null}""", 0)]
    [InlineData("""{"prompt_tokens":50,"completion_tokens":3}""", 0)]
    public void ReadStreamEvent_Usage_ReadsCachedPromptTokensWhenReported(string usage, int cached)
    {
        var update = OpenAIWireReader.ReadStreamEvent(
            System.Text.Encoding.UTF8.GetBytes($$"""{"id":"c1","model":"m","created":5,"choices":[],"usage":{{usage}}}"""),
            "requested");

        Assert.Equal(new Usage { PromptTokens = 50, CompletionTokens = 3, CachedPromptTokens = cached }, update.UsageChunk!.Usage);
    }

    [Fact]
    public void ReadStreamEvent_FinishWithUsage_KeepsUsageOutOfTheFinishChunk()
    {
        // Some OpenAI-compatible servers put usage on the finish chunk; the canonical stream wants it separate.
        var update = OpenAIWireReader.ReadStreamEvent(
            """{"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3}}"""u8,
            "m");

        Assert.Equal(FinishReason.Stop, update.Chunk!.FinishReason);
        Assert.Null(update.Chunk.Usage);
        Assert.NotNull(update.UsageChunk);
    }

    [Fact]
    public void ReadStreamEvent_EmptyDelta_ReturnsNothing()
    {
        var update = OpenAIWireReader.ReadStreamEvent("""{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":""},"finish_reason":null}]}"""u8, "m");

        Assert.Equal(default, update);
    }

    [Fact]
    public void ReadStreamEvent_Error_ReturnsTheErrorPayload()
    {
        const string Json = """{"error":{"message":"overloaded","type":"server_error"}}""";

        var update = OpenAIWireReader.ReadStreamEvent(Encoding.UTF8.GetBytes(Json), "m");

        Assert.Equal(Json, update.ErrorJson);
        Assert.Null(update.Chunk);
    }

    private static ChatRequest Request() => new() { Model = "m", Messages = [ChatMessage.FromText(ChatRole.User, "hi")] };

    private static string Write(ChatRequest request, bool stream, bool legacyMaxTokens)
    {
        using var content = OpenAIWireWriter.CreateContent(request, stream, legacyMaxTokens);
        using var body = new MemoryStream();
        content.WriteTo(body);
        return Encoding.UTF8.GetString(body.ToArray());
    }
}
