using System.Buffers;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Responses;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>
/// OpenAI's Responses API stream: typed <c>event: &lt;type&gt;</c> / <c>data: {json}</c> events, numbered by
/// <c>sequence_number</c> from 0, that open and close output items as the canonical chunks arrive, and end with exactly
/// one of <c>response.completed</c>, <c>response.incomplete</c> or <c>response.failed</c> (there is no <c>[DONE]</c>).
/// Meanwhile it assembles the answer (<see cref="Result"/>), keeping the text and the arguments it must repeat in the
/// <c>.done</c> events anyway.
/// </summary>
/// <remarks>
/// <para>
/// <c>response.created</c> and <c>response.in_progress</c> go out with the first call (a chunk, the end, or a failure).
/// Text opens a <c>message</c> item, the first fragment of each tool call (a new <see cref="ToolCallDelta.Index"/>)
/// opens a <c>function_call</c> item; each closes the item open before it, so one item is open at a time. The last item
/// closes at the end.
/// </para>
/// <para>
/// Upstreams send the text before the tool calls, and then the stream's items are the final response's items, id for id.
/// Should text come after a tool call, it opens a new message item after the calls, while the final response (one
/// answer: its text, then its calls) lists one message first. A fragment for a call whose item is already closed (an
/// upstream interleaving the arguments of parallel calls) cannot be streamed any more: it joins that call's arguments
/// in the final response only. A call that streamed no arguments has the arguments <c>{}</c>.
/// </para>
/// <para>
/// A failure after the stream started (<see cref="WriteError"/>) closes the open item as <c>incomplete</c> and ends the
/// stream with <c>response.failed</c>, whose response holds the error and what was answered so far. No <c>error</c>
/// event precedes it: the failure is this response's, which <c>response.failed</c> reports in full, and a client that
/// stops at an <c>error</c> event would never read the failed response (the .NET SDK reads both as plain updates).
/// </para>
/// </remarks>
internal sealed class ResponsesStreamWriter(IBufferWriter<byte> output, StoredResponse started) : IChatStreamWriter
{
    private readonly Utf8JsonWriter _writer = new(output, JsonWriting.Options);
    private readonly StringBuilder _text = new();
    private readonly List<Call> _calls = [];
    private readonly Dictionary<int, Call> _callsByIndex = [];
    private int _sequence;
    private int _nextOutputIndex;
    private bool _started;
    private bool _ended;

    // The open item: a message (its text starts at _openTextStart of _text) or a call; none when _openItemId is null.
    private string? _openItemId;
    private int _openOutputIndex;
    private int _openTextStart;
    private Call? _openCall;

    private string? _id;
    private string? _model;
    private long _created;
    private FinishReason _finishReason;
    private Usage? _usage;
    private StoredResponse? _final;

    /// <summary>The response as answered: <c>started with { Answer = ... }</c>; set by <see cref="Complete"/>, null until then and after a failure.</summary>
    public StoredResponse? Result { get; private set; }

    /// <summary>The response as answered so far: what <see cref="Complete"/> announces, unless <see cref="Finish"/> replaced it.</summary>
    public StoredResponse Assemble() => started with { Answer = Answer() };

    /// <summary>Makes <see cref="Complete"/> announce <paramref name="final"/> (the assembled answer as it was kept, e.g. with <c>store: false</c>).</summary>
    public void Finish(StoredResponse final) => _final = final;

    public void Write(ChatChunk chunk)
    {
        if (_ended)
        {
            return;
        }

        Start();
        _id ??= string.IsNullOrEmpty(chunk.Id) ? null : chunk.Id;
        _model ??= string.IsNullOrEmpty(chunk.Model) ? null : chunk.Model;
        if (_created == 0)
        {
            _created = chunk.Created;
        }

        if (!string.IsNullOrEmpty(chunk.TextDelta))
        {
            if (_openItemId is null || _openCall is not null)
            {
                CloseOpenItem("completed");
                OpenMessage();
            }

            _text.Append(chunk.TextDelta);
            var w = BeginEvent("response.output_text.delta"u8);
            WriteItemPosition(w, contentIndex: true);
            w.WriteString("delta"u8, chunk.TextDelta);
            w.WriteStartArray("logprobs"u8);
            w.WriteEndArray();
            EndEvent();
        }

        foreach (var delta in chunk.ToolCallDeltas)
        {
            if (!_callsByIndex.TryGetValue(delta.Index, out var call))
            {
                CloseOpenItem("completed");
                call = OpenCall(delta);
            }

            if (delta.Id is not null && call.CallId is null)
            {
                call.CallId = delta.Id;
            }

            if (!string.IsNullOrEmpty(delta.Name) && call.Name.Length == 0)
            {
                call.Name = delta.Name;
            }

            if (string.IsNullOrEmpty(delta.ArgumentsDelta))
            {
                continue;
            }

            call.Arguments.Append(delta.ArgumentsDelta);
            if (call == _openCall)
            {
                var w = BeginEvent("response.function_call_arguments.delta"u8);
                WriteItemPosition(w, contentIndex: false);
                w.WriteString("delta"u8, delta.ArgumentsDelta);
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

    /// <summary>Closes the open item and ends the stream with <c>response.completed</c>, or <c>response.incomplete</c> when the answer was cut short.</summary>
    public void Complete()
    {
        if (_ended)
        {
            return;
        }

        Start();
        _ended = true;
        var incomplete = ResponsesResponseWriter.IncompleteReason(_finishReason) is not null;
        CloseOpenItem(incomplete ? "incomplete" : "completed");
        Result = _final ?? Assemble();
        var w = BeginEvent(incomplete ? "response.incomplete"u8 : "response.completed"u8);
        w.WritePropertyName("response"u8);
        ResponsesResponseWriter.WriteResponse(w, Result);
        EndEvent();
    }

    /// <summary>Closes the open item as <c>incomplete</c> and ends the stream with <c>response.failed</c>.</summary>
    public void WriteError(GatewayException error)
    {
        if (_ended)
        {
            return;
        }

        Start();
        _ended = true;
        CloseOpenItem("incomplete", "incomplete");
        var partial = _nextOutputIndex > 0 ? started with { Answer = Answer() } : started;
        var w = BeginEvent("response.failed"u8);
        w.WritePropertyName("response"u8);
        ResponsesResponseWriter.WriteFailed(w, partial, error);
        EndEvent();
    }

    public void Dispose() => _writer.Dispose();

    private void Start()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var w = BeginEvent("response.created"u8);
        w.WritePropertyName("response"u8);
        ResponsesResponseWriter.WriteResponse(w, started);
        EndEvent();
        w = BeginEvent("response.in_progress"u8);
        w.WritePropertyName("response"u8);
        ResponsesResponseWriter.WriteResponse(w, started);
        EndEvent();
    }

    private void OpenMessage()
    {
        _openOutputIndex = _nextOutputIndex++;
        _openItemId = ResponseItemIds.Message(started.Id, _openOutputIndex);
        _openTextStart = _text.Length;
        _openCall = null;

        var w = BeginEvent("response.output_item.added"u8);
        w.WriteNumber("output_index"u8, _openOutputIndex);
        w.WritePropertyName("item"u8);
        ResponsesResponseWriter.WriteMessageItem(w, _openItemId, "in_progress", text: null);
        EndEvent();

        w = BeginEvent("response.content_part.added"u8);
        WriteItemPosition(w, contentIndex: true);
        w.WritePropertyName("part"u8);
        ResponsesResponseWriter.WriteOutputText(w, string.Empty);
        EndEvent();
    }

    private Call OpenCall(ToolCallDelta head)
    {
        _openOutputIndex = _nextOutputIndex++;
        _openItemId = ResponseItemIds.FunctionCall(started.Id, _openOutputIndex);
        var call = new Call(_openItemId) { CallId = head.Id, Name = head.Name ?? string.Empty };
        _calls.Add(call);
        _callsByIndex[head.Index] = call;
        _openCall = call;

        var w = BeginEvent("response.output_item.added"u8);
        w.WriteNumber("output_index"u8, _openOutputIndex);
        w.WritePropertyName("item"u8);
        ResponsesResponseWriter.WriteFunctionCallItem(w, call.ItemId, "in_progress", call.EffectiveCallId, call.Name, string.Empty);
        EndEvent();
        return call;
    }

    /// <summary>
    /// The <c>.done</c> events of the open item, with the status the final response gives it: a call is completed
    /// (also when the answer stopped at its token limit) unless the stream failed.
    /// </summary>
    private void CloseOpenItem(string messageStatus, string callStatus = "completed")
    {
        if (_openItemId is null)
        {
            return;
        }

        Utf8JsonWriter w;
        if (_openCall is { } call)
        {
            var arguments = call.EffectiveArguments;
            w = BeginEvent("response.function_call_arguments.done"u8);
            WriteItemPosition(w, contentIndex: false);
            w.WriteString("name"u8, call.Name);
            w.WriteString("arguments"u8, arguments);
            EndEvent();

            w = BeginEvent("response.output_item.done"u8);
            w.WriteNumber("output_index"u8, _openOutputIndex);
            w.WritePropertyName("item"u8);
            ResponsesResponseWriter.WriteFunctionCallItem(w, call.ItemId, callStatus, call.EffectiveCallId, call.Name, arguments);
            EndEvent();
        }
        else
        {
            var text = _text.ToString(_openTextStart, _text.Length - _openTextStart);
            w = BeginEvent("response.output_text.done"u8);
            WriteItemPosition(w, contentIndex: true);
            w.WriteString("text"u8, text);
            w.WriteStartArray("logprobs"u8);
            w.WriteEndArray();
            EndEvent();

            w = BeginEvent("response.content_part.done"u8);
            WriteItemPosition(w, contentIndex: true);
            w.WritePropertyName("part"u8);
            ResponsesResponseWriter.WriteOutputText(w, text);
            EndEvent();

            w = BeginEvent("response.output_item.done"u8);
            w.WriteNumber("output_index"u8, _openOutputIndex);
            w.WritePropertyName("item"u8);
            ResponsesResponseWriter.WriteMessageItem(w, _openItemId, messageStatus, text);
            EndEvent();
        }

        _openItemId = null;
        _openCall = null;
    }

    private void WriteItemPosition(Utf8JsonWriter w, bool contentIndex)
    {
        w.WriteString("item_id"u8, _openItemId);
        w.WriteNumber("output_index"u8, _openOutputIndex);
        if (contentIndex)
        {
            w.WriteNumber("content_index"u8, 0);
        }
    }

    private ChatResponse Answer() => new()
    {
        Id = _id ?? started.Id,
        Model = _model ?? started.Request.Model,
        Message = new ChatMessage
        {
            Role = ChatRole.Assistant,
            Content = _text.Length > 0 ? [ContentPart.FromText(_text.ToString())] : [],
            ToolCalls = [.. _calls.Select(c => new ToolCall { Id = c.EffectiveCallId, Name = c.Name, ArgumentsJson = c.EffectiveArguments })],
        },
        FinishReason = _finishReason,
        Usage = _usage,
        Created = _created != 0 ? _created : started.CreatedAt,
    };

    /// <summary>Writes <c>event: type</c> and opens the data object with its <c>type</c> and <c>sequence_number</c>.</summary>
    private Utf8JsonWriter BeginEvent(ReadOnlySpan<byte> type)
    {
        output.Write("event: "u8);
        output.Write(type);
        output.Write("\ndata: "u8);
        _writer.WriteStartObject();
        _writer.WriteString("type"u8, type);
        _writer.WriteNumber("sequence_number"u8, _sequence++);
        return _writer;
    }

    private void EndEvent()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        _writer.Reset();
        output.Write("\n\n"u8);
    }

    private sealed class Call(string itemId)
    {
        public string ItemId { get; } = itemId;
        /// <summary>The upstream's id of the call; null when its first fragment had none.</summary>
        public string? CallId { get; set; }
        public string Name { get; set; } = string.Empty;
        public StringBuilder Arguments { get; } = new();

        /// <summary>The call's id, or its item's id when the upstream gave none: a tool's output must name the call it answers.</summary>
        public string EffectiveCallId => CallId ?? ItemId;

        public string EffectiveArguments => Arguments.Length == 0 ? "{}" : Arguments.ToString();
    }
}
