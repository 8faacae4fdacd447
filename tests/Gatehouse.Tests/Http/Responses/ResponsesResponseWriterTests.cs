using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Responses;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Responses;
using Xunit;

namespace Gatehouse.Tests.Http.Responses;

public sealed class ResponsesResponseWriterTests
{
    internal const string Id = "resp_0123456789abcdef0123456789abcdef";
    internal const long CreatedAt = 1_764_000_000;

    [Fact]
    public void WriteResponse_CompletedTextAnswer_WritesOpenAIShape()
    {
        var response = Stored() with
        {
            Instructions = "Be brief.",
            Metadata = new Dictionary<string, string> { ["team"] = "search" }.ToImmutableDictionary(),
            Answer = TextAnswer("Hello there", FinishReason.Stop),
        };

        var json = Write(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        Assert.Equal(
            """{"id":"resp_0123456789abcdef0123456789abcdef","object":"response","created_at":1764000000,"status":"completed","background":false,"error":null,"incomplete_details":null,"instructions":"Be brief.","max_output_tokens":null,"model":"gpt-4o-mini-2024-07-18","output":[{"id":"msg_0123456789abcdef0123456789abcdef_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello there","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"store":true,"temperature":null,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,"truncation":"disabled","usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15},"user":null,"metadata":{"team":"search"}}""",
            json);
    }

    [Fact]
    public void WriteResponse_ToolCallAnswer_WritesTheMessageThenOneItemPerCall()
    {
        var response = Stored() with
        {
            Answer = TextAnswer("Let me look.", FinishReason.ToolCalls) with
            {
                Message = new ChatMessage
                {
                    Role = ChatRole.Assistant,
                    Content = [ContentPart.FromText("Let me look.")],
                    ToolCalls =
                    [
                        new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" },
                        new ToolCall { Id = "call_2", Name = "lookup", ArgumentsJson = """{"q":"dog"}""" },
                    ],
                },
            },
        };

        using var document = Parse(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        var root = document.RootElement;
        Assert.Equal("completed", root.GetProperty("status").GetString());
        var output = root.GetProperty("output").EnumerateArray().ToArray();
        Assert.Equal(3, output.Length);
        Assert.Equal("msg_0123456789abcdef0123456789abcdef_0", output[0].GetProperty("id").GetString());
        Assert.Equal(
            """{"id":"fc_0123456789abcdef0123456789abcdef_1","type":"function_call","status":"completed","call_id":"call_1","name":"lookup","arguments":"{\"q\":\"cat\"}"}""",
            output[1].GetRawText());
        Assert.Equal("fc_0123456789abcdef0123456789abcdef_2", output[2].GetProperty("id").GetString());
        Assert.Equal("call_2", output[2].GetProperty("call_id").GetString());
    }

    [Fact]
    public void WriteResponse_ToolCallsWithoutText_StartAtIndexZero()
    {
        var response = Stored() with
        {
            Answer = TextAnswer("", FinishReason.ToolCalls) with
            {
                Message = new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [new ToolCall { Id = "call_1", Name = "f" }] },
            },
        };

        using var document = Parse(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        var item = Assert.Single(document.RootElement.GetProperty("output").EnumerateArray());
        Assert.Equal("fc_0123456789abcdef0123456789abcdef_0", item.GetProperty("id").GetString());
        Assert.Equal("{}", item.GetProperty("arguments").GetString());
    }

    [Theory]
    [InlineData(FinishReason.Length, "max_output_tokens")]
    [InlineData(FinishReason.ContentFilter, "content_filter")]
    public void WriteResponse_AnswerCutShort_IsIncompleteWithTheReason(FinishReason finish, string reason)
    {
        var response = Stored(new ChatRequest { Model = "fast", Messages = [], MaxTokens = 3 }) with { Answer = TextAnswer("Hel", finish) };

        using var document = Parse(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        var root = document.RootElement;
        Assert.Equal("incomplete", root.GetProperty("status").GetString());
        Assert.Equal(reason, root.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(3, root.GetProperty("max_output_tokens").GetInt32());
        Assert.Equal("incomplete", root.GetProperty("output")[0].GetProperty("status").GetString());
    }

    [Fact]
    public void WriteResponse_NotYetAnswered_IsInProgressWithoutOutputOrUsage()
    {
        var response = Stored();

        var json = Write(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        Assert.Equal(
            """{"id":"resp_0123456789abcdef0123456789abcdef","object":"response","created_at":1764000000,"status":"in_progress","background":false,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"fast","output":[],"parallel_tool_calls":true,"previous_response_id":null,"store":true,"temperature":null,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,"truncation":"disabled","usage":null,"user":null,"metadata":{}}""",
            json);
    }

    [Fact]
    public void WriteResponse_EchoesTheRequestOptions()
    {
        var request = new ChatRequest
        {
            Model = "fast",
            Messages = [],
            Temperature = 0.25,
            TopP = 0.5,
            MaxTokens = 100,
            User = "user-7",
            ParallelToolCalls = false,
            // A schema sent pretty-printed must come back on one line: it goes into an SSE data line too.
            Tools = [new ToolDefinition { Name = "lookup", Description = "Looks up.", ParametersJson = "{\n  \"type\": \"object\"\n}", Strict = true }, new ToolDefinition { Name = "now" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "lookup" },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = "{ \"type\" : \"object\" }", Strict = false },
        };
        var response = Stored(request) with { PreviousResponseId = "resp_before", Store = false };

        var json = Write(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        Assert.DoesNotContain('\n', json);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(0.25, root.GetProperty("temperature").GetDouble());
        Assert.Equal(0.5, root.GetProperty("top_p").GetDouble());
        Assert.Equal(100, root.GetProperty("max_output_tokens").GetInt32());
        Assert.Equal("user-7", root.GetProperty("user").GetString());
        Assert.False(root.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.False(root.GetProperty("store").GetBoolean());
        Assert.Equal("resp_before", root.GetProperty("previous_response_id").GetString());
        Assert.Equal("""{"type":"function","name":"lookup"}""", root.GetProperty("tool_choice").GetRawText());
        Assert.Equal(
            """[{"type":"function","name":"lookup","description":"Looks up.","parameters":{"type":"object"},"strict":true},{"type":"function","name":"now","description":null,"parameters":null,"strict":null}]""",
            root.GetProperty("tools").GetRawText());
        Assert.Equal("""{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},"strict":false}}""", root.GetProperty("text").GetRawText());
    }

    [Theory]
    [InlineData(ToolChoiceMode.Auto, "\"auto\"")]
    [InlineData(ToolChoiceMode.None, "\"none\"")]
    [InlineData(ToolChoiceMode.Required, "\"required\"")]
    public void WriteResponse_ToolChoiceMode_IsAString(ToolChoiceMode mode, string expected)
    {
        var response = Stored(new ChatRequest { Model = "fast", Messages = [], ToolChoice = new ToolChoice { Mode = mode } });

        using var document = Parse(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        Assert.Equal(expected, document.RootElement.GetProperty("tool_choice").GetRawText());
    }

    [Fact]
    public void WriteResponse_JsonObjectFormat_IsEchoed()
    {
        var response = Stored(new ChatRequest { Model = "fast", Messages = [], ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject } });

        using var document = Parse(writer => ResponsesResponseWriter.WriteResponse(writer, response));

        Assert.Equal("""{"format":{"type":"json_object"}}""", document.RootElement.GetProperty("text").GetRawText());
    }

    [Fact]
    public void WriteFailed_BeforeAnyAnswer_WritesTheErrorAndNoOutput()
    {
        var error = new GatewayException(GatewayError.UpstreamFailed, "The upstream failed.");

        using var document = Parse(writer => ResponsesResponseWriter.WriteFailed(writer, Stored(), error));

        var root = document.RootElement;
        Assert.Equal("failed", root.GetProperty("status").GetString());
        Assert.Equal("""{"code":"server_error","message":"The upstream failed."}""", root.GetProperty("error").GetRawText());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("incomplete_details").ValueKind);
        Assert.Empty(root.GetProperty("output").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("usage").ValueKind);
    }

    [Fact]
    public void WriteFailed_WithAPartialAnswer_ListsItsItemsAsIncomplete()
    {
        var response = Stored() with
        {
            Answer = TextAnswer("Hal", FinishReason.Stop) with
            {
                Message = new ChatMessage { Role = ChatRole.Assistant, Content = [ContentPart.FromText("Hal")], ToolCalls = [new ToolCall { Id = "c", Name = "f", ArgumentsJson = "{\"a" }] },
                Usage = null,
            },
        };

        using var document = Parse(writer => ResponsesResponseWriter.WriteFailed(writer, response, new GatewayException(GatewayError.UpstreamTimeout, "Timed out.")));

        var output = document.RootElement.GetProperty("output").EnumerateArray().ToArray();
        Assert.Equal<string?>(["incomplete", "incomplete"], output.Select(i => i.GetProperty("status").GetString()));
        Assert.Equal("failed", document.RootElement.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(GatewayError.RateLimited, "rate_limit_exceeded")]
    [InlineData(GatewayError.BudgetExhausted, "rate_limit_exceeded")]
    [InlineData(GatewayError.ContextLengthExceeded, "invalid_prompt")]
    [InlineData(GatewayError.InvalidRequest, "invalid_prompt")]
    [InlineData(GatewayError.UpstreamFailed, "server_error")]
    [InlineData(GatewayError.UpstreamTimeout, "server_error")]
    [InlineData(GatewayError.NoTargetAvailable, "server_error")]
    [InlineData(GatewayError.None, "server_error")]
    public void WriteFailed_ErrorCode_IsOneOfOpenAIs(GatewayError kind, string code)
    {
        using var document = Parse(writer => ResponsesResponseWriter.WriteFailed(writer, Stored(), new GatewayException(kind, "m")));

        Assert.Equal(code, document.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public void WriteDeleted_WritesOpenAIShape()
    {
        var json = Write(writer => ResponsesResponseWriter.WriteDeleted(writer, Id));

        Assert.Equal("""{"id":"resp_0123456789abcdef0123456789abcdef","object":"response","deleted":true}""", json);
    }

    [Fact]
    public void WriteInputItems_WritesTheOwnInputOnly_EachMessageAndCallAsAnItem()
    {
        var json = Write(writer => ResponsesResponseWriter.WriteInputItems(writer, Conversation(), order: "asc"));

        using var document = JsonDocument.Parse(json);
        var data = document.RootElement.GetProperty("data").EnumerateArray().Select(i => i.GetRawText()).ToArray();
        Assert.Equal<string>(
        [
            """{"id":"in_0123456789abcdef0123456789abcdef_0","type":"message","status":"completed","role":"system","content":[{"type":"input_text","text":"Be brief."}]}""",
            """{"id":"in_0123456789abcdef0123456789abcdef_1","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"What is this?"},{"type":"input_image","image_url":"https://example.com/cat.png","file_id":null,"detail":"auto"},{"type":"input_image","image_url":"data:image/png;base64,AAAA","file_id":null,"detail":"high"}]}""",
            """{"id":"in_0123456789abcdef0123456789abcdef_2","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Looking.","annotations":[]}]}""",
            """{"id":"in_0123456789abcdef0123456789abcdef_3","type":"function_call","status":"completed","call_id":"call_1","name":"lookup","arguments":"{\"q\":\"cat\"}"}""",
            """{"id":"in_0123456789abcdef0123456789abcdef_4","type":"function_call","status":"completed","call_id":"call_2","name":"lookup","arguments":"{}"}""",
            """{"id":"in_0123456789abcdef0123456789abcdef_5","type":"function_call_output","status":"completed","call_id":"call_1","output":"a cat"}""",
            """{"id":"in_0123456789abcdef0123456789abcdef_6","type":"function_call","status":"completed","call_id":"call_3","name":"lookup","arguments":"{}"}""",
        ], data);
        Assert.Equal("in_0123456789abcdef0123456789abcdef_0", document.RootElement.GetProperty("first_id").GetString());
        Assert.Equal("in_0123456789abcdef0123456789abcdef_6", document.RootElement.GetProperty("last_id").GetString());
        Assert.False(document.RootElement.GetProperty("has_more").GetBoolean());
        Assert.StartsWith("""{"object":"list","data":[""", json);
    }

    [Fact]
    public void WriteInputItems_ByDefault_ListsTheLatestFirst()
    {
        using var document = Parse(writer => ResponsesResponseWriter.WriteInputItems(writer, Conversation()));

        Assert.Equal<int>([6, 5, 4, 3, 2, 1, 0], InputIndexes(document));
        Assert.Equal("in_0123456789abcdef0123456789abcdef_6", document.RootElement.GetProperty("first_id").GetString());
        Assert.Equal("in_0123456789abcdef0123456789abcdef_0", document.RootElement.GetProperty("last_id").GetString());
    }

    [Theory]
    [InlineData("asc", 3, null, new[] { 0, 1, 2 }, true)]
    [InlineData("asc", 3, 2, new[] { 3, 4, 5 }, true)]
    [InlineData("asc", 3, 5, new[] { 6 }, false)]
    [InlineData("asc", 3, 6, new int[0], false)]
    [InlineData("asc", 7, null, new[] { 0, 1, 2, 3, 4, 5, 6 }, false)]
    [InlineData("desc", 3, null, new[] { 6, 5, 4 }, true)]
    [InlineData("desc", 3, 4, new[] { 3, 2, 1 }, true)]
    [InlineData("desc", 3, 1, new[] { 0 }, false)]
    [InlineData("desc", 100, 0, new int[0], false)]
    public void WriteInputItems_Pages(string order, int limit, int? after, int[] expected, bool hasMore)
    {
        var afterId = after is { } k ? ResponseItemIds.Input(Id, k) : null;

        using var document = Parse(writer => ResponsesResponseWriter.WriteInputItems(writer, Conversation(), limit, order, afterId));

        Assert.Equal(expected, InputIndexes(document));
        Assert.Equal(hasMore, document.RootElement.GetProperty("has_more").GetBoolean());
        var root = document.RootElement;
        if (expected.Length == 0)
        {
            Assert.Equal(JsonValueKind.Null, root.GetProperty("first_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("last_id").ValueKind);
        }
        else
        {
            Assert.Equal(ResponseItemIds.Input(Id, expected[0]), root.GetProperty("first_id").GetString());
            Assert.Equal(ResponseItemIds.Input(Id, expected[^1]), root.GetProperty("last_id").GetString());
        }
    }

    [Theory]
    [InlineData(0, null, null, "limit")]
    [InlineData(101, null, null, "limit")]
    [InlineData(-5, null, null, "limit")]
    [InlineData(null, "ascending", null, "order")]
    [InlineData(null, null, "in_0123456789abcdef0123456789abcdef_7", "after")]
    [InlineData(null, null, "msg_0123456789abcdef0123456789abcdef_0", "after")]
    public void WriteInputItems_InvalidPaging_Is400BeforeWritingAnything(int? limit, string? order, string? after, string param)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, JsonWriting.Options);

        var error = Assert.Throws<GatewayException>(() => ResponsesResponseWriter.WriteInputItems(writer, Conversation(), limit, order, after));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.Equal(0, writer.BytesPending + writer.BytesCommitted);
    }

    [Fact]
    public void WriteInputItems_ContinuationWithoutOwnInput_IsAnEmptyList()
    {
        var response = Conversation() with { InputStart = Conversation().Request.Messages.Length };

        var json = Write(writer => ResponsesResponseWriter.WriteInputItems(writer, response));

        Assert.Equal("""{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}""", json);
    }

    /// <summary>Two earlier turns (a continuation), then this response's own input from message 2 on.</summary>
    internal static StoredResponse Conversation() => Stored(new ChatRequest
    {
        Model = "fast",
        Messages =
        [
            ChatMessage.FromText(ChatRole.User, "Earlier question"),
            ChatMessage.FromText(ChatRole.Assistant, "Earlier answer"),
            ChatMessage.FromText(ChatRole.System, "Be brief."),
            new ChatMessage
            {
                Role = ChatRole.User,
                Content =
                [
                    ContentPart.FromText("What is this?"),
                    new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png" },
                    new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,AAAA", ImageDetail = "high" },
                ],
            },
            new ChatMessage
            {
                Role = ChatRole.Assistant,
                Content = [ContentPart.FromText("Looking.")],
                ToolCalls = [new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }, new ToolCall { Id = "call_2", Name = "lookup" }],
            },
            new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_1", Content = [ContentPart.FromText("a cat")] },
            new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [new ToolCall { Id = "call_3", Name = "lookup" }] },
        ],
    }) with { InputStart = 2 };

    internal static StoredResponse Stored(ChatRequest? request = null) => new()
    {
        Id = Id,
        AppId = "app-1",
        CreatedAt = CreatedAt,
        Request = request ?? new ChatRequest { Model = "fast", Messages = [ChatMessage.FromText(ChatRole.User, "Hi")] },
    };

    internal static ChatResponse TextAnswer(string text, FinishReason finish) => new()
    {
        Id = "chatcmpl-1",
        Model = "gpt-4o-mini-2024-07-18",
        Created = CreatedAt + 1,
        Message = ChatMessage.FromText(ChatRole.Assistant, text),
        FinishReason = finish,
        Usage = new Usage { PromptTokens = 12, CompletionTokens = 3, CachedPromptTokens = 4 },
    };

    internal static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, JsonWriting.Options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static JsonDocument Parse(Action<Utf8JsonWriter> write) => JsonDocument.Parse(Write(write));

    private static int[] InputIndexes(JsonDocument document) =>
        [.. document.RootElement.GetProperty("data").EnumerateArray().Select(i => int.Parse(i.GetProperty("id").GetString()!.Split('_')[^1], System.Globalization.CultureInfo.InvariantCulture))];
}
