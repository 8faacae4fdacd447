using System.Buffers;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Responses;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Responses;
using Xunit;
using static Gatehouse.Tests.Http.Responses.ResponsesResponseWriterTests;

namespace Gatehouse.Tests.Http.Responses;

public sealed class ResponsesStreamWriterTests
{
    private static readonly string Msg0 = ResponseItemIds.Message(Id, 0);

    [Fact]
    public void Text_OpensOneMessageItemAndEndsCompleted()
    {
        var (events, writer) = Run(
            Chunk() with { Role = ChatRole.Assistant, TextDelta = "Hel" },
            Chunk() with { TextDelta = "lo" },
            Chunk() with { FinishReason = FinishReason.Stop },
            Chunk() with { Usage = new Usage { PromptTokens = 9, CompletionTokens = 2, CachedPromptTokens = 1 } });

        Assert.Equal<string>(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.completed",
        ], Names(events));

        Assert.Equal("""{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_0123456789abcdef0123456789abcdef_0","type":"message","status":"in_progress","role":"assistant","content":[]}}""", events[2].Json);
        Assert.Equal("""{"type":"response.content_part.added","sequence_number":3,"item_id":"msg_0123456789abcdef0123456789abcdef_0","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}""", events[3].Json);
        Assert.Equal("""{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_0123456789abcdef0123456789abcdef_0","output_index":0,"content_index":0,"delta":"Hel","logprobs":[]}""", events[4].Json);
        Assert.Equal("lo", events[5].Data.GetProperty("delta").GetString());
        Assert.Equal("""{"type":"response.output_text.done","sequence_number":6,"item_id":"msg_0123456789abcdef0123456789abcdef_0","output_index":0,"content_index":0,"text":"Hello","logprobs":[]}""", events[6].Json);
        Assert.Equal("""{"type":"output_text","text":"Hello","annotations":[]}""", events[7].Data.GetProperty("part").GetRawText());
        Assert.Equal("""{"id":"msg_0123456789abcdef0123456789abcdef_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}""", events[8].Data.GetProperty("item").GetRawText());

        foreach (var started in events.Take(2))
        {
            var response = started.Data.GetProperty("response");
            Assert.Equal(Id, response.GetProperty("id").GetString());
            Assert.Equal("in_progress", response.GetProperty("status").GetString());
            Assert.Empty(response.GetProperty("output").EnumerateArray());
            Assert.Equal(JsonValueKind.Null, response.GetProperty("usage").ValueKind);
        }

        var final = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", final.GetProperty("status").GetString());
        Assert.Equal("gpt-up", final.GetProperty("model").GetString());
        Assert.Equal(events[8].Data.GetProperty("item").GetRawText(), Assert.Single(final.GetProperty("output").EnumerateArray()).GetRawText());
        Assert.Equal(11, final.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        var answer = writer.Result!.Answer!;
        Assert.Equal("chatcmpl-9", answer.Id);
        Assert.Equal("gpt-up", answer.Model);
        Assert.Equal(CreatedAt + 5, answer.Created);
        Assert.Equal(ChatRole.Assistant, answer.Message.Role);
        Assert.Equal("Hello", answer.Message.Text);
        Assert.Empty(answer.Message.ToolCalls);
        Assert.Equal(FinishReason.Stop, answer.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 9, CompletionTokens = 2, CachedPromptTokens = 1 }, answer.Usage);
        Assert.Equal(Id, writer.Result.Id);
        Assert.Equal("app-1", writer.Result.AppId);
    }

    [Fact]
    public void TextThenTwoToolCalls_ClosesEachItemBeforeTheNextOpens()
    {
        var (events, writer) = Run(
            Chunk() with { Role = ChatRole.Assistant, TextDelta = "Let me check." },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_a", Name = "weather", ArgumentsDelta = "{\"ci" }] },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "ty\":\"Oslo\"}" }, new ToolCallDelta { Index = 1, Id = "call_b", Name = "time" }] },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 1, ArgumentsDelta = "{\"tz\":\"CET\"}" }] },
            Chunk() with { FinishReason = FinishReason.ToolCalls },
            Chunk() with { Usage = new Usage { PromptTokens = 20, CompletionTokens = 10 } });

        Assert.Equal<string>(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.completed",
        ], Names(events));

        var fc1 = ResponseItemIds.FunctionCall(Id, 1);
        var fc2 = ResponseItemIds.FunctionCall(Id, 2);
        Assert.Equal("""{"type":"response.output_item.added","sequence_number":8,"output_index":1,"item":{"id":"fc_0123456789abcdef0123456789abcdef_1","type":"function_call","status":"in_progress","call_id":"call_a","name":"weather","arguments":""}}""", events[8].Json);
        Assert.Equal("""{"type":"response.function_call_arguments.delta","sequence_number":9,"item_id":"fc_0123456789abcdef0123456789abcdef_1","output_index":1,"delta":"{\"ci"}""", events[9].Json);
        Assert.Equal("""{"type":"response.function_call_arguments.done","sequence_number":11,"item_id":"fc_0123456789abcdef0123456789abcdef_1","output_index":1,"name":"weather","arguments":"{\"city\":\"Oslo\"}"}""", events[11].Json);
        Assert.Equal(fc1, events[12].Data.GetProperty("item").GetProperty("id").GetString());
        Assert.Equal("completed", events[12].Data.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal(2, events[13].Data.GetProperty("output_index").GetInt32());
        Assert.Equal(fc2, events[13].Data.GetProperty("item").GetProperty("id").GetString());
        Assert.Equal("call_b", events[13].Data.GetProperty("item").GetProperty("call_id").GetString());
        Assert.Equal("{\"tz\":\"CET\"}", events[15].Data.GetProperty("arguments").GetString());
        Assert.Equal("time", events[15].Data.GetProperty("name").GetString());

        // The final response names the same items, in the same places, as the stream did.
        var output = events[^1].Data.GetProperty("response").GetProperty("output").EnumerateArray().Select(i => i.GetRawText()).ToArray();
        Assert.Equal<string>(new[] { events[7], events[12], events[16] }.Select(e => e.Data.GetProperty("item").GetRawText()), output);

        var answer = writer.Result!.Answer!;
        Assert.Equal("Let me check.", answer.Message.Text);
        Assert.Equal<ToolCall>(
        [
            new ToolCall { Id = "call_a", Name = "weather", ArgumentsJson = "{\"city\":\"Oslo\"}" },
            new ToolCall { Id = "call_b", Name = "time", ArgumentsJson = "{\"tz\":\"CET\"}" },
        ], answer.Message.ToolCalls);
        Assert.Equal(FinishReason.ToolCalls, answer.FinishReason);
    }

    [Fact]
    public void InterleavedToolCallFragments_NeverWriteToAClosedItem_AndTheAnswerKeepsThemAll()
    {
        var (events, writer) = Run(
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_a", Name = "f", ArgumentsDelta = "{\"a\":" }] },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 1, Id = "call_b", Name = "g", ArgumentsDelta = "{\"b\":" }] },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "1}" }] },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 1, ArgumentsDelta = "2}" }] },
            Chunk() with { FinishReason = FinishReason.ToolCalls });

        var fc0 = ResponseItemIds.FunctionCall(Id, 0);
        var fc1 = ResponseItemIds.FunctionCall(Id, 1);
        var closed = new HashSet<string>();
        foreach (var e in events.Where(e => e.Name.StartsWith("response.function_call_arguments", StringComparison.Ordinal) || e.Name == "response.output_item.done"))
        {
            var item = e.Data.TryGetProperty("item_id", out var itemId) ? itemId.GetString()! : e.Data.GetProperty("item").GetProperty("id").GetString()!;
            Assert.DoesNotContain(item, closed);
            if (e.Name == "response.output_item.done")
            {
                closed.Add(item);
            }
        }

        Assert.Equal<string>([fc0, fc1], closed);
        Assert.Equal<string>(["{\"a\":1}", "{\"b\":2}"], writer.Result!.Answer!.Message.ToolCalls.Select(c => c.ArgumentsJson));
        Assert.Equal<string>(["{\"a\":1}", "{\"b\":2}"], events[^1].Data.GetProperty("response").GetProperty("output").EnumerateArray().Select(i => i.GetProperty("arguments").GetString()!));
    }

    [Fact]
    public void MaxTokensStop_EndsWithResponseIncomplete()
    {
        var (events, writer) = Run(
            Chunk() with { Role = ChatRole.Assistant, TextDelta = "Once upon" },
            Chunk() with { FinishReason = FinishReason.Length },
            Chunk() with { Usage = new Usage { PromptTokens = 5, CompletionTokens = 2 } });

        Assert.Equal("response.incomplete", events[^1].Name);
        Assert.DoesNotContain(events, e => e.Name == "response.completed");
        Assert.Equal("incomplete", events[^2].Data.GetProperty("item").GetProperty("status").GetString());
        var final = events[^1].Data.GetProperty("response");
        Assert.Equal("incomplete", final.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", final.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal("incomplete", final.GetProperty("output")[0].GetProperty("status").GetString());
        Assert.Equal(FinishReason.Length, writer.Result!.Answer!.FinishReason);
    }

    [Fact]
    public void FailureMidText_ClosesTheItemAsIncompleteAndEndsWithOneResponseFailed()
    {
        var error = new GatewayException(GatewayError.UpstreamFailed, "The upstream failed mid-answer.");

        var (events, writer) = Run(error, Chunk() with { Role = ChatRole.Assistant, TextDelta = "Hal" });

        Assert.Equal<string>(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.failed",
        ], Names(events));
        Assert.Equal("incomplete", events[7].Data.GetProperty("item").GetProperty("status").GetString());
        var failed = events[^1].Data.GetProperty("response");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("""{"code":"server_error","message":"The upstream failed mid-answer."}""", failed.GetProperty("error").GetRawText());
        Assert.Equal("Hal", failed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Null(writer.Result);
    }

    [Fact]
    public void FailureMidToolCall_ClosesTheCallAsIncomplete()
    {
        var error = new GatewayException(GatewayError.UpstreamTimeout, "Timed out.");

        var (events, _) = Run(error, Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_a", Name = "f", ArgumentsDelta = "{\"a\"" }] });

        Assert.Equal<string>(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done", "response.failed",
        ], Names(events));
        Assert.Equal("incomplete", events[5].Data.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal("incomplete", events[^1].Data.GetProperty("response").GetProperty("output")[0].GetProperty("status").GetString());
    }

    [Fact]
    public void AfterTheEnd_NothingMoreIsWritten()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new ResponsesStreamWriter(buffer, Stored());
        writer.Write(Chunk() with { TextDelta = "Hi" });
        writer.WriteError(new GatewayException(GatewayError.UpstreamFailed, "boom"));
        var written = buffer.WrittenCount;

        writer.Write(Chunk() with { TextDelta = "more" });
        writer.Complete();
        writer.WriteError(new GatewayException(GatewayError.UpstreamFailed, "again"));

        Assert.Equal(written, buffer.WrittenCount);
        Assert.Single(Parse(buffer), e => e.Name == "response.failed");
        Assert.Null(writer.Result);
    }

    [Fact]
    public void NoChunks_CompletesWithAnEmptyAnswer()
    {
        var (events, writer) = Run();

        Assert.Equal<string>(["response.created", "response.in_progress", "response.completed"], Names(events));
        var final = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", final.GetProperty("status").GetString());
        Assert.Empty(final.GetProperty("output").EnumerateArray());
        Assert.Equal("fast", final.GetProperty("model").GetString());

        var answer = writer.Result!.Answer!;
        Assert.Equal(Id, answer.Id);
        Assert.Equal("fast", answer.Model);
        Assert.Equal(CreatedAt, answer.Created);
        Assert.Empty(answer.Message.Content);
        Assert.Empty(answer.Message.ToolCalls);
        Assert.Equal(FinishReason.Stop, answer.FinishReason);
        Assert.Null(answer.Usage);
    }

    [Fact]
    public void NoChunks_Failure_EndsWithResponseFailed()
    {
        var (events, writer) = Run(new GatewayException(GatewayError.RateLimited, "Slow down."));

        Assert.Equal<string>(["response.created", "response.in_progress", "response.failed"], Names(events));
        var failed = events[^1].Data.GetProperty("response");
        Assert.Equal("rate_limit_exceeded", failed.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(failed.GetProperty("output").EnumerateArray());
        Assert.Null(writer.Result);
    }

    [Fact]
    public void ToolCallWithoutIdOrArguments_GetsItsItemIdAndEmptyObjectArguments()
    {
        var (events, writer) = Run(
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 3, Name = "now" }] },
            Chunk() with { FinishReason = FinishReason.ToolCalls });

        var fc0 = ResponseItemIds.FunctionCall(Id, 0);
        Assert.Equal<string>(
        [
            "response.created", "response.in_progress", "response.output_item.added",
            "response.function_call_arguments.done", "response.output_item.done", "response.completed",
        ], Names(events));
        Assert.Equal(fc0, events[2].Data.GetProperty("item").GetProperty("call_id").GetString());
        Assert.Equal("{}", events[3].Data.GetProperty("arguments").GetString());
        Assert.Equal(new ToolCall { Id = fc0, Name = "now", ArgumentsJson = "{}" }, Assert.Single(writer.Result!.Answer!.Message.ToolCalls));
    }

    [Fact]
    public void TextAfterAToolCall_OpensAnotherMessageItem()
    {
        var (events, writer) = Run(
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_a", Name = "f", ArgumentsDelta = "{}" }] },
            Chunk() with { TextDelta = "Done." },
            Chunk() with { FinishReason = FinishReason.Stop });

        var added = events.Where(e => e.Name == "response.output_item.added").Select(e => e.Data.GetProperty("item").GetProperty("id").GetString()!).ToArray();
        Assert.Equal<string>([ResponseItemIds.FunctionCall(Id, 0), ResponseItemIds.Message(Id, 1)], added);
        Assert.Equal("Done.", writer.Result!.Answer!.Message.Text);
        Assert.Equal("call_a", Assert.Single(writer.Result.Answer.Message.ToolCalls).Id);
    }

    [Fact]
    public void EmptyDeltas_WriteNoEvents()
    {
        var (events, _) = Run(
            Chunk() with { Role = ChatRole.Assistant, TextDelta = "" },
            Chunk() with { TextDelta = null },
            Chunk() with { FinishReason = FinishReason.Stop });

        Assert.Equal<string>(["response.created", "response.in_progress", "response.completed"], Names(events));
    }

    [Fact]
    public void EveryEvent_IsOneEventLineAndOneDataLine_EvenForAPrettyPrintedSchema()
    {
        var started = Stored(new ChatRequest
        {
            Model = "fast",
            Messages = [],
            Tools = [new ToolDefinition { Name = "f", ParametersJson = "{\n  \"type\": \"object\"\r\n}" }],
        });
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new ResponsesStreamWriter(buffer, started))
        {
            writer.Write(Chunk() with { TextDelta = "line one\nline two\r\n" });
            writer.Complete();
        }

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', text);
        foreach (var block in text[..^2].Split("\n\n"))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
        }
    }

    internal static ChatChunk Chunk() => new() { Id = "chatcmpl-9", Model = "gpt-up", Created = CreatedAt + 5 };

    /// <summary>The events the writer makes of the chunks, then of the end: <see cref="IChatStreamWriter.Complete"/>, or the failure.</summary>
    internal static (List<SseEvent> Events, ResponsesStreamWriter Writer) Run(GatewayException? failure, params ChatChunk[] chunks)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ResponsesStreamWriter(buffer, Stored());
        foreach (var chunk in chunks)
        {
            writer.Write(chunk);
        }

        if (failure is null)
        {
            writer.Complete();
        }
        else
        {
            writer.WriteError(failure);
        }

        writer.Dispose();
        return (Parse(buffer), writer);
    }

    private static (List<SseEvent> Events, ResponsesStreamWriter Writer) Run(params ChatChunk[] chunks) => Run(null, chunks);

    /// <summary>Splits the stream into its events, checking the framing and that the sequence numbers count up from 0.</summary>
    internal static List<SseEvent> Parse(ArrayBufferWriter<byte> buffer)
    {
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        var events = new List<SseEvent>();
        foreach (var block in text[..^2].Split("\n\n"))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            var name = lines[0]["event: ".Length..];
            var json = lines[1]["data: ".Length..];
            using var document = JsonDocument.Parse(json);
            var data = document.RootElement.Clone();
            Assert.Equal(name, data.GetProperty("type").GetString());
            Assert.Equal(events.Count, data.GetProperty("sequence_number").GetInt32());
            events.Add(new SseEvent(name, json, data));
        }

        Assert.Single(events, e => e.Name is "response.completed" or "response.incomplete" or "response.failed");
        Assert.True(events[^1].Name is "response.completed" or "response.incomplete" or "response.failed");
        return events;
    }

    private static string[] Names(List<SseEvent> events) => [.. events.Select(e => e.Name)];

    internal sealed record SseEvent(string Name, string Json, JsonElement Data);
}
