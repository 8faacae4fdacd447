using System.Text;
using Gatehouse.Chat;

namespace Gatehouse.Caching;

/// <summary>Folds a recorded stream into the <see cref="ChatResponse"/> a non-streaming caller expects.</summary>
/// <remarks>
/// Text deltas are concatenated; tool call deltas are grouped by index (id and name from the first fragment that has
/// them, arguments concatenated); the finish reason, usage and route are taken from the chunks that carry them.
/// </remarks>
public static class ChatResponseAssembler
{
    public static ChatResponse Assemble(IReadOnlyList<ChatChunk> chunks)
    {
        if (chunks.Count == 0)
        {
            throw new ArgumentException("A response needs at least one chunk.", nameof(chunks));
        }

        StringBuilder? text = null;
        SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? calls = null;
        FinishReason finish = FinishReason.Stop;
        Usage? usage = null;
        RouteInfo? route = null;
        string? fingerprint = null;
        var first = chunks[0];
        foreach (var chunk in chunks)
        {
            if (chunk.TextDelta is { Length: > 0 } delta)
            {
                (text ??= new StringBuilder()).Append(delta);
            }

            foreach (var call in chunk.ToolCallDeltas)
            {
                calls ??= [];
                if (!calls.TryGetValue(call.Index, out var entry))
                {
                    entry = (null, null, new StringBuilder());
                }

                entry.Id ??= call.Id;
                entry.Name ??= call.Name;
                entry.Arguments.Append(call.ArgumentsDelta);
                calls[call.Index] = entry;
            }

            finish = chunk.FinishReason ?? finish;
            usage = chunk.Usage ?? usage;
            route ??= chunk.Route;
            fingerprint ??= chunk.SystemFingerprint;
        }

        var message = new ChatMessage
        {
            Role = ChatRole.Assistant,
            Content = text is null ? [] : [ContentPart.FromText(text.ToString())],
            ToolCalls = calls is null
                ? []
                : [.. calls.Values.Select(c => new ToolCall
                {
                    Id = c.Id ?? "",
                    Name = c.Name ?? "",
                    ArgumentsJson = c.Arguments.Length == 0 ? "{}" : c.Arguments.ToString(),
                })],
        };

        return new ChatResponse
        {
            Id = first.Id,
            Model = first.Model,
            Message = message,
            FinishReason = finish,
            Usage = usage,
            Created = first.Created,
            SystemFingerprint = fingerprint,
            Route = route,
        };
    }
}
