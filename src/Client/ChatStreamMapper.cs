using System.Text;
using Microsoft.Extensions.AI;
using G = Gatehouse.Chat;

namespace Gatehouse.Client;

/// <summary>Maps the canonical chunks of one stream to <see cref="ChatResponseUpdate"/>s.</summary>
/// <remarks>
/// Tool calls arrive as fragments keyed by index; M.E.AI expects each <see cref="FunctionCallContent"/>
/// whole (function-invoking middleware runs it as soon as it sees it), so fragments are accumulated and
/// the calls emitted, in index order, with the chunk that carries the finish reason — or by
/// <see cref="Complete"/> if the stream ends without one. One instance per stream; not thread-safe.
/// </remarks>
internal sealed class ChatStreamMapper
{
    private readonly SortedDictionary<int, ToolCallBuilder> _toolCalls = [];
    private ChatRole _role = ChatRole.Assistant;
    private string? _responseId;
    private string? _modelId;
    private DateTimeOffset? _createdAt;

    /// <summary>The update for <paramref name="chunk"/>, or null when the chunk only carried tool-call fragments.</summary>
    public ChatResponseUpdate? Map(G.ChatChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);

        if (chunk.Role is { } role)
        {
            _role = ChatMapping.FromGatehouseRole(role);
        }

        _responseId = chunk.Id;
        _modelId = chunk.Model;
        _createdAt = ChatMapping.FromUnixSeconds(chunk.Created) ?? _createdAt;

        var contents = new List<AIContent>();
        if (!string.IsNullOrEmpty(chunk.TextDelta))
        {
            contents.Add(new TextContent(chunk.TextDelta));
        }

        foreach (var delta in chunk.ToolCallDeltas)
        {
            Accumulate(delta);
        }

        if (chunk.FinishReason is not null)
        {
            DrainToolCalls(contents);
        }

        if (chunk.Usage is { } usage)
        {
            contents.Add(new UsageContent(ChatMapping.FromGatehouseUsage(usage)));
        }

        var additionalProperties = ChatMapping.ToAdditionalProperties(chunk.Route);
        if (contents.Count == 0 && chunk.FinishReason is null && chunk.Role is null && additionalProperties is null)
        {
            return null;
        }

        return new ChatResponseUpdate(_role, contents)
        {
            ResponseId = chunk.Id,
            MessageId = chunk.Id,
            ModelId = chunk.Model,
            CreatedAt = _createdAt,
            FinishReason = chunk.FinishReason is { } reason ? ChatMapping.FromGatehouseFinishReason(reason) : null,
            AdditionalProperties = additionalProperties,
            RawRepresentation = chunk,
        };
    }

    /// <summary>An update with the tool calls still pending when the stream ended without a finish chunk, else null.</summary>
    public ChatResponseUpdate? Complete()
    {
        if (_toolCalls.Count == 0)
        {
            return null;
        }

        var contents = new List<AIContent>(_toolCalls.Count);
        DrainToolCalls(contents);
        return new ChatResponseUpdate(_role, contents)
        {
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _modelId,
            CreatedAt = _createdAt,
        };
    }

    private void Accumulate(G.ToolCallDelta delta)
    {
        if (!_toolCalls.TryGetValue(delta.Index, out var builder))
        {
            builder = new ToolCallBuilder();
            _toolCalls.Add(delta.Index, builder);
        }

        if (!string.IsNullOrEmpty(delta.Id))
        {
            builder.Id = delta.Id;
        }

        if (!string.IsNullOrEmpty(delta.Name))
        {
            builder.Name = delta.Name;
        }

        builder.Arguments.Append(delta.ArgumentsDelta);
    }

    private void DrainToolCalls(List<AIContent> into)
    {
        foreach (var (index, call) in _toolCalls)
        {
            // A call whose id never arrived still needs one the caller can answer with a tool message.
            var callId = call.Id ?? $"call_{index}";
            into.Add(ChatMapping.ToFunctionCall(callId, call.Name ?? string.Empty, call.Arguments.ToString()));
        }

        _toolCalls.Clear();
    }

    private sealed class ToolCallBuilder
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
