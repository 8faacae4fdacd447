using System.Buffers;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Anthropic;

namespace Gatehouse.Tests.Http.Anthropic;

public sealed class AnthropicResponseWriterTests
{
    [Fact]
    public void WriteMessage_TextAnswer_WritesAnthropicShape()
    {
        var response = new ChatResponse
        {
            Id = "msg_1",
            Model = "claude-sonnet-4-5",
            Message = ChatMessage.FromText(ChatRole.Assistant, "Hello there"),
            FinishReason = FinishReason.Stop,
            Usage = new Usage { PromptTokens = 5, CompletionTokens = 2 },
        };

        var json = Write(writer => AnthropicResponseWriter.WriteMessage(writer, response));

        Assert.Equal(
            """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}""",
            json);
    }

    [Fact]
    public void WriteMessage_ToolCallsFromOpenAI_WritesToolUseBlocksWithObjectInput()
    {
        var response = new ChatResponse
        {
            Id = "chatcmpl-1",
            Model = "gpt-4o",
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                ToolCalls = [new ToolCall { Id = "call_abc", Name = "weather", ArgumentsJson = """{"city":"Paris"}""" }],
            },
            FinishReason = FinishReason.ToolCalls,
            Usage = new Usage { PromptTokens = 9, CompletionTokens = 4 },
        };

        var json = Write(writer => AnthropicResponseWriter.WriteMessage(writer, response));

        Assert.Equal(
            """{"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt-4o","content":[{"type":"tool_use","id":"call_abc","name":"weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":4}}""",
            json);
    }

    [Theory]
    [InlineData(FinishReason.Stop, "end_turn")]
    [InlineData(FinishReason.Length, "max_tokens")]
    [InlineData(FinishReason.ToolCalls, "tool_use")]
    [InlineData(FinishReason.ContentFilter, "refusal")]
    public void StopReason_MapsFinishReason(FinishReason reason, string expected) =>
        Assert.Equal(expected, AnthropicResponseWriter.StopReason(reason));

    [Theory]
    [InlineData(GatewayError.InvalidRequest, "invalid_request_error")]
    [InlineData(GatewayError.ContextLengthExceeded, "invalid_request_error")]
    [InlineData(GatewayError.Unauthenticated, "authentication_error")]
    [InlineData(GatewayError.ModelNotAllowed, "permission_error")]
    [InlineData(GatewayError.ModelNotFound, "not_found_error")]
    [InlineData(GatewayError.PayloadTooLarge, "request_too_large")]
    [InlineData(GatewayError.RateLimited, "rate_limit_error")]
    [InlineData(GatewayError.UpstreamFailed, "api_error")]
    [InlineData(GatewayError.UpstreamAuthFailed, "api_error")]
    [InlineData(GatewayError.UpstreamTimeout, "api_error")]
    [InlineData(GatewayError.NoTargetAvailable, "overloaded_error")]
    public void WriteError_WritesAnthropicEnvelope(GatewayError error, string type)
    {
        var json = Write(writer => AnthropicResponseWriter.WriteError(writer, new GatewayException(error, "what happened")));

        Assert.Equal($$$"""{"type":"error","error":{"type":"{{{type}}}","message":"what happened"}}""", json);
    }

    [Fact]
    public void StreamWriter_TextThenToolCall_WritesFullEventSequence()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new AnthropicStreamWriter(buffer))
        {
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", Role = ChatRole.Assistant });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", TextDelta = "Let me " });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", TextDelta = "check." });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_1", Name = "weather", ArgumentsDelta = "" }] });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "{\"city\":" }] });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "\"Paris\"}" }] });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", FinishReason = FinishReason.ToolCalls });
            writer.Write(new ChatChunk { Id = "chatcmpl-9", Model = "gpt-4o", Usage = new Usage { PromptTokens = 12, CompletionTokens = 8 } });
            writer.Complete();
        }

        Assert.Equal(
            """
            event: message_start
            data: {"type":"message_start","message":{"id":"chatcmpl-9","type":"message","role":"assistant","model":"gpt-4o","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"weather","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":1}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":12,"output_tokens":8}}

            event: message_stop
            data: {"type":"message_stop"}


            """.ReplaceLineEndings("\n"),
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void StreamWriter_FailureMidStream_WritesErrorEvent()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new AnthropicStreamWriter(buffer))
        {
            writer.Write(new ChatChunk { Id = "msg_1", Model = "claude", Role = ChatRole.Assistant, TextDelta = "Hi" });
            writer.WriteError(new GatewayException(GatewayError.UpstreamFailed, "provider 'x' failed (HTTP 529)"));
        }

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith(
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"provider 'x' failed (HTTP 529)\"}}\n\n",
            text);
        Assert.DoesNotContain("message_stop", text);
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
