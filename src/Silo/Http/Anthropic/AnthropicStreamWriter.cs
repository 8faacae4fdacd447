using System.Buffers;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.Anthropic;

/// <summary>
/// Turns a canonical chunk stream into Anthropic's SSE event sequence: <c>message_start</c>, per content block
/// <c>content_block_start</c> / <c>content_block_delta</c> (<c>text_delta</c>, <c>input_json_delta</c>) /
/// <c>content_block_stop</c>, then <c>message_delta</c> (stop reason, usage) and <c>message_stop</c>.
/// </summary>
/// <remarks>
/// One instance per response; not thread-safe. Writes straight to <paramref name="output"/> through one reused
/// <see cref="Utf8JsonWriter"/>, with no per-event allocation; the caller flushes.
/// </remarks>
internal sealed class AnthropicStreamWriter(IBufferWriter<byte> output) : IChatStreamWriter
{
    private readonly Utf8JsonWriter _writer = new(output, JsonWriting.Options);
    private readonly Dictionary<int, int> _blockByToolIndex = [];
    private bool _started;
    private int _openBlock = -1;
    private bool _openBlockIsText;
    private int _nextBlock;
    private FinishReason _finishReason;
    private Usage? _usage;

    /// <summary>Writes the events one chunk gives rise to (the first chunk also opens the message).</summary>
    public void Write(ChatChunk chunk)
    {
        if (!_started)
        {
            Start(chunk.Id, chunk.Model, chunk.Usage?.PromptTokens ?? 0);
        }

        if (!string.IsNullOrEmpty(chunk.TextDelta))
        {
            if (_openBlock < 0 || !_openBlockIsText)
            {
                StopOpenBlock();
                StartBlock(isText: true, null);
            }

            var w = BeginEvent("content_block_delta"u8);
            w.WriteNumber("index"u8, _openBlock);
            w.WriteStartObject("delta"u8);
            w.WriteString("type"u8, "text_delta"u8);
            w.WriteString("text"u8, chunk.TextDelta);
            w.WriteEndObject();
            EndEvent();
        }

        foreach (var delta in chunk.ToolCallDeltas)
        {
            if (!_blockByToolIndex.TryGetValue(delta.Index, out var block))
            {
                StopOpenBlock();
                StartBlock(isText: false, delta);
                block = _openBlock;
                _blockByToolIndex[delta.Index] = block;
            }

            if (!string.IsNullOrEmpty(delta.ArgumentsDelta))
            {
                var w = BeginEvent("content_block_delta"u8);
                w.WriteNumber("index"u8, block);
                w.WriteStartObject("delta"u8);
                w.WriteString("type"u8, "input_json_delta"u8);
                w.WriteString("partial_json"u8, delta.ArgumentsDelta);
                w.WriteEndObject();
                EndEvent();
            }
        }

        if (chunk.FinishReason is { } finish)
        {
            _finishReason = finish;
        }

        if (chunk.Usage is { } usage)
        {
            _usage = usage;
        }
    }

    /// <summary>Closes the open block and the message: <c>message_delta</c> with the stop reason and usage, <c>message_stop</c>.</summary>
    public void Complete()
    {
        if (!_started)
        {
            Start(string.Empty, string.Empty, 0);
        }

        StopOpenBlock();
        var w = BeginEvent("message_delta"u8);
        w.WriteStartObject("delta"u8);
        w.WriteString("stop_reason"u8, AnthropicResponseWriter.StopReason(_finishReason));
        w.WriteNull("stop_sequence"u8);
        w.WriteEndObject();
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, _usage?.PromptTokens ?? 0);
        w.WriteNumber("output_tokens"u8, _usage?.CompletionTokens ?? 0);
        w.WriteEndObject();
        EndEvent();
        BeginEvent("message_stop"u8);
        EndEvent();
    }

    /// <summary>A failure after the stream started: Anthropic's <c>event: error</c>.</summary>
    public void WriteError(GatewayException error)
    {
        var w = BeginEvent("error"u8);
        w.WriteStartObject("error"u8);
        w.WriteString("type"u8, AnthropicResponseWriter.ErrorType(error.Error));
        w.WriteString("message"u8, error.Message);
        w.WriteEndObject();
        EndEvent();
    }

    public void Dispose() => _writer.Dispose();

    private void Start(string id, string model, int inputTokens)
    {
        _started = true;
        var w = BeginEvent("message_start"u8);
        w.WriteStartObject("message"u8);
        w.WriteString("id"u8, id);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("model"u8, model);
        w.WriteStartArray("content"u8);
        w.WriteEndArray();
        w.WriteNull("stop_reason"u8);
        w.WriteNull("stop_sequence"u8);
        // Input tokens are known up front only from some upstreams; message_delta carries the final counts.
        AnthropicResponseWriter.WriteUsage(w, inputTokens, 0);
        w.WriteEndObject();
        EndEvent();
    }

    private void StartBlock(bool isText, ToolCallDelta? tool)
    {
        _openBlock = _nextBlock++;
        _openBlockIsText = isText;
        var w = BeginEvent("content_block_start"u8);
        w.WriteNumber("index"u8, _openBlock);
        w.WriteStartObject("content_block"u8);
        if (isText)
        {
            w.WriteString("type"u8, "text"u8);
            w.WriteString("text"u8, ""u8);
        }
        else
        {
            w.WriteString("type"u8, "tool_use"u8);
            if (tool!.Id is { } id)
            {
                w.WriteString("id"u8, id);
            }
            else
            {
                // A fragment without its head (an upstream that skipped it): the block still needs an id.
                w.WriteString("id"u8, "toolu_" + _openBlock.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            w.WriteString("name"u8, tool.Name ?? string.Empty);
            w.WriteStartObject("input"u8);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        EndEvent();
    }

    private void StopOpenBlock()
    {
        if (_openBlock < 0)
        {
            return;
        }

        var w = BeginEvent("content_block_stop"u8);
        w.WriteNumber("index"u8, _openBlock);
        EndEvent();
        _openBlock = -1;
    }

    /// <summary>Writes <c>event: name</c> and opens the data object with its <c>type</c>, which Anthropic repeats there.</summary>
    private Utf8JsonWriter BeginEvent(ReadOnlySpan<byte> name)
    {
        output.Write("event: "u8);
        output.Write(name);
        output.Write("\ndata: "u8);
        _writer.WriteStartObject();
        _writer.WriteString("type"u8, name);
        return _writer;
    }

    private void EndEvent()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        _writer.Reset();
        output.Write("\n\n"u8);
    }
}
