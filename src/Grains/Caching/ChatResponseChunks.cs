using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Caching;

/// <summary>
/// A whole answer as the few chunks a stream of it would have: everything in one content chunk (route on it), then the
/// finish reason, then usage. <see cref="ChatResponseAssembler"/> folds them back into the same answer.
/// </summary>
public static class ChatResponseChunks
{
    public static ImmutableArray<ChatChunk> Split(ChatResponse response)
    {
        var text = response.Message.Text;
        var content = new ChatChunk
        {
            Id = response.Id,
            Model = response.Model,
            Role = ChatRole.Assistant,
            TextDelta = text.Length == 0 ? null : text,
            ToolCallDeltas = [.. response.Message.ToolCalls.Select((call, index) =>
                new ToolCallDelta { Index = index, Id = call.Id, Name = call.Name, ArgumentsDelta = call.ArgumentsJson })],
            Created = response.Created,
            Route = response.Route,
            SystemFingerprint = response.SystemFingerprint,
        };
        var finish = new ChatChunk { Id = response.Id, Model = response.Model, FinishReason = response.FinishReason, Created = response.Created };
        return response.Usage is { } usage
            ? [content, finish, new ChatChunk { Id = response.Id, Model = response.Model, Usage = usage, Created = response.Created }]
            : [content, finish];
    }
}
