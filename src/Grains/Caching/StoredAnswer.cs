using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Caching;

/// <summary>A complete answer as the cache keeps it: its chunks as recorded, and when it stops being served.</summary>
public sealed class StoredAnswer : IStoredEntry
{
    private const int ChunkOverheadBytes = 200;

    private ChatResponse? _assembled;

    public StoredAnswer(ImmutableArray<ChatChunk> chunks, DateTimeOffset expiresAt)
    {
        Chunks = chunks;
        ExpiresAt = expiresAt;
        Bytes = SizeOf(chunks);
        Usage = chunks.LastOrDefault(c => c.Usage is not null)?.Usage;
    }

    public ImmutableArray<ChatChunk> Chunks { get; }
    public DateTimeOffset ExpiresAt { get; }
    public Usage? Usage { get; }
    /// <summary>What the answer takes on the heap, estimated: text as UTF-16 plus a fixed cost per chunk.</summary>
    public long Bytes { get; }

    /// <summary>The whole answer, assembled once on first use.</summary>
    public ChatResponse Assembled => _assembled ??= ChatResponseAssembler.Assemble(Chunks);

    public static long SizeOf(ImmutableArray<ChatChunk> chunks)
    {
        long size = 0;
        foreach (var chunk in chunks)
        {
            size += SizeOf(chunk);
        }

        return size;
    }

    public static long SizeOf(ChatChunk chunk)
    {
        long size = ChunkOverheadBytes + 2L * ((chunk.TextDelta?.Length ?? 0) + chunk.Id.Length + chunk.Model.Length);
        foreach (var delta in chunk.ToolCallDeltas)
        {
            size += 64 + 2L * ((delta.Id?.Length ?? 0) + (delta.Name?.Length ?? 0) + (delta.ArgumentsDelta?.Length ?? 0));
        }

        return size;
    }
}
