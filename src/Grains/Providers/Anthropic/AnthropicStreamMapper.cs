using System.Text.Json;
using Gatehouse.Chat;

namespace Gatehouse.Providers.Anthropic;

/// <summary>Turns the events of one Anthropic stream into canonical chunks; one instance per stream, not thread-safe.</summary>
internal sealed class AnthropicStreamMapper(string requestedModel, long created, bool includeUsage)
{
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private string _id = string.Empty;
    private string _model = requestedModel;
    private int? _promptTokens;
    private Usage? _usage;

    /// <summary>The final usage, once <c>message_delta</c> reported it.</summary>
    public Usage? Usage => _usage;

    /// <summary>Whether <c>message_stop</c>, the event that closes a complete stream, has been mapped.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Maps one event (its JSON <c>data</c>); null when it carries nothing for the caller (ping, block stop).</summary>
    public ChatChunk? Map(JsonElement data)
    {
        switch (AnthropicChatMapping.GetString(data, "type"))
        {
            case "message_start":
                if (data.TryGetProperty("message", out var message))
                {
                    _id = AnthropicChatMapping.GetString(message, "id") ?? _id;
                    _model = AnthropicChatMapping.GetString(message, "model") is { Length: > 0 } model ? model : _model;
                    if (message.TryGetProperty("usage", out var startUsage))
                    {
                        _promptTokens = AnthropicChatMapping.FromAnthropicUsage(startUsage, null)?.PromptTokens;
                    }
                }

                return Chunk() with { Role = ChatRole.Assistant };

            case "content_block_start":
                if (data.TryGetProperty("content_block", out var block))
                {
                    var type = AnthropicChatMapping.GetString(block, "type");
                    if (type == "tool_use" && TryGetIndex(data, out var blockIndex))
                    {
                        var toolIndex = _toolIndexByBlock.Count;
                        _toolIndexByBlock[blockIndex] = toolIndex;
                        return Chunk() with
                        {
                            ToolCallDeltas = [new ToolCallDelta
                            {
                                Index = toolIndex,
                                Id = AnthropicChatMapping.GetString(block, "id"),
                                Name = AnthropicChatMapping.GetString(block, "name"),
                            }],
                        };
                    }

                    if (type == "text" && AnthropicChatMapping.GetString(block, "text") is { Length: > 0 } initialText)
                    {
                        return Chunk() with { TextDelta = initialText };
                    }
                }

                return null;

            case "content_block_delta":
                if (!data.TryGetProperty("delta", out var delta))
                {
                    return null;
                }

                switch (AnthropicChatMapping.GetString(delta, "type"))
                {
                    case "text_delta":
                        return AnthropicChatMapping.GetString(delta, "text") is { Length: > 0 } text ? Chunk() with { TextDelta = text } : null;
                    case "input_json_delta":
                        return TryGetIndex(data, out var index) && _toolIndexByBlock.TryGetValue(index, out var tool)
                            && AnthropicChatMapping.GetString(delta, "partial_json") is { Length: > 0 } json
                            ? Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = tool, ArgumentsDelta = json }] }
                            : null;
                    default:
                        // thinking_delta, signature_delta, citations_delta: nothing the canonical model carries.
                        return null;
                }

            case "message_delta":
                if (data.TryGetProperty("usage", out var usage))
                {
                    _usage = AnthropicChatMapping.FromAnthropicUsage(usage, _promptTokens);
                }

                return data.TryGetProperty("delta", out var messageDelta) && AnthropicChatMapping.GetString(messageDelta, "stop_reason") is { } stopReason
                    ? Chunk() with { FinishReason = AnthropicChatMapping.FromAnthropicStopReason(stopReason) }
                    : null;

            case "message_stop":
                Stopped = true;
                return includeUsage && _usage is not null ? Chunk() with { Usage = _usage } : null;

            default:
                // ping, content_block_stop, and event types added after this adapter was written.
                return null;
        }
    }

    private ChatChunk Chunk() => new() { Id = _id, Model = _model, Created = created };

    private static bool TryGetIndex(JsonElement data, out int index)
    {
        index = 0;
        return data.TryGetProperty("index", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out index);
    }
}
