using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.OpenAI;
using Xunit;

namespace Gatehouse.Tests.Http.OpenAI;

public sealed class OpenAIResponseWriterTests
{
    private const long Created = 1_764_000_000;

    [Fact]
    public void WriteCompletion_TextAnswer_WritesOpenAIShape()
    {
        var response = new ChatResponse
        {
            Id = "chatcmpl-1",
            Model = "gpt-4o-mini",
            Created = Created,
            SystemFingerprint = "fp_1",
            Message = ChatMessage.FromText(ChatRole.Assistant, "Hello there"),
            FinishReason = FinishReason.Stop,
            Usage = new Usage { PromptTokens = 5, CompletionTokens = 2 },
        };

        var json = Write(writer => OpenAIResponseWriter.WriteCompletion(writer, response));

        Assert.Equal(
            """{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7},"system_fingerprint":"fp_1"}""",
            json);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal("Hello there", root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", root.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(7, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void WriteCompletion_ToolCallAnswer_WritesNullContentAndFunctionCall()
    {
        var response = new ChatResponse
        {
            Id = "chatcmpl-2",
            Model = "gpt-4o-mini",
            Created = Created,
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                ToolCalls = [new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }],
            },
            FinishReason = FinishReason.ToolCalls,
        };

        var json = Write(writer => OpenAIResponseWriter.WriteCompletion(writer, response));

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var choice = root.GetProperty("choices")[0];
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        var call = Assert.Single(choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("lookup", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"q":"cat"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.False(root.TryGetProperty("usage", out _));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("system_fingerprint").ValueKind);
    }

    [Theory]
    [InlineData(FinishReason.Stop, "stop")]
    [InlineData(FinishReason.Length, "length")]
    [InlineData(FinishReason.ToolCalls, "tool_calls")]
    [InlineData(FinishReason.ContentFilter, "content_filter")]
    public void WriteCompletion_FinishReason_WritesOpenAIName(FinishReason reason, string expected)
    {
        var response = new ChatResponse
        {
            Id = "c",
            Model = "m",
            Message = ChatMessage.FromText(ChatRole.Assistant, "x"),
            FinishReason = reason,
        };

        using var document = JsonDocument.Parse(Write(writer => OpenAIResponseWriter.WriteCompletion(writer, response)));

        Assert.Equal(expected, document.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void WriteChunk_FirstTextChunk_WritesRoleAndContentDelta()
    {
        var chunk = Chunk() with { Role = ChatRole.Assistant, TextDelta = "Hel" };

        var json = Write(writer => OpenAIResponseWriter.WriteChunk(writer, chunk));

        Assert.Equal(
            """{"id":"chatcmpl-3","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"logprobs":null,"finish_reason":null}]}""",
            json);
    }

    [Fact]
    public void WriteChunk_FinishChunk_WritesEmptyDeltaAndFinishReason()
    {
        var chunk = Chunk() with { FinishReason = FinishReason.Length };

        var json = Write(writer => OpenAIResponseWriter.WriteChunk(writer, chunk));

        Assert.Equal(
            """{"id":"chatcmpl-3","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]}""",
            json);
    }

    [Fact]
    public void WriteChunk_ToolCallChunk_WritesFunctionTypeOnFirstFragmentOnly()
    {
        var first = Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_1", Name = "lookup", ArgumentsDelta = "{" }] };
        var next = Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "}" }] };

        var firstJson = Write(writer => OpenAIResponseWriter.WriteChunk(writer, first));
        var nextJson = Write(writer => OpenAIResponseWriter.WriteChunk(writer, next));

        Assert.Equal(
            """{"id":"chatcmpl-3","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{"}}]},"logprobs":null,"finish_reason":null}]}""",
            firstJson);
        Assert.Equal(
            """{"id":"chatcmpl-3","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]},"logprobs":null,"finish_reason":null}]}""",
            nextJson);
    }

    [Fact]
    public void WriteChunk_UsageOnlyChunk_WritesEmptyChoicesAndUsage()
    {
        var chunk = Chunk() with { Usage = new Usage { PromptTokens = 10, CompletionTokens = 4 } };

        var json = Write(writer => OpenAIResponseWriter.WriteChunk(writer, chunk));

        Assert.Equal(
            """{"id":"chatcmpl-3","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}}""",
            json);
    }

    [Fact]
    public void WriteModels_Aliases_WritesModelList()
    {
        var json = Write(writer => OpenAIResponseWriter.WriteModels(writer, ["alpha", "gpt"], Created));

        Assert.Equal(
            """{"object":"list","data":[{"id":"alpha","object":"model","created":1764000000,"owned_by":"gatehouse"},{"id":"gpt","object":"model","created":1764000000,"owned_by":"gatehouse"}]}""",
            json);
    }

    [Fact]
    public void WriteChunk_NonAsciiTextWithGatehouseOptions_WritesItUnescaped()
    {
        const string text = "Grüße, 世界 — ça va? <b>&</b>";
        var chunk = Chunk() with { TextDelta = text };

        var relaxed = Write(writer => OpenAIResponseWriter.WriteChunk(writer, chunk), JsonWriting.Options);
        var strict = Write(writer => OpenAIResponseWriter.WriteChunk(writer, chunk), default);

        Assert.Contains($"\"content\":\"{text}\"", relaxed);
        Assert.DoesNotContain("世界", strict);
        using var document = JsonDocument.Parse(relaxed);
        Assert.Equal(text, document.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
    }

    private static ChatChunk Chunk() => new() { Id = "chatcmpl-3", Model = "gpt-4o-mini", Created = Created, SystemFingerprint = "fp_1" };

    private static string Write(Action<Utf8JsonWriter> write) => Write(write, JsonWriting.Options);

    private static string Write(Action<Utf8JsonWriter> write, JsonWriterOptions options)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
