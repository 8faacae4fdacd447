using Gatehouse.Chat;

namespace Gatehouse.Caching;

/// <summary>Adapts a recorded chunk to one caller: marks how it was served, and drops usage the caller did not ask for.</summary>
internal static class ChunkShaping
{
    /// <param name="cacheStatus">Set on the caller's first chunk (the one that carries the route); null for the others.</param>
    /// <returns>The chunk to send, or null when there is nothing left of it for this caller.</returns>
    public static ChatChunk? ForCaller(ChatChunk chunk, string? cacheStatus, bool includeUsage)
    {
        if (cacheStatus is not null && chunk.Route is { } route)
        {
            chunk = chunk with { Route = route with { Cache = cacheStatus } };
        }

        if (includeUsage || chunk.Usage is null)
        {
            return chunk;
        }

        // Upstream calls always ask for usage (to bill them); a caller that did not ask must not see the extra chunk.
        return chunk.Role is null && chunk.TextDelta is null && chunk.ToolCallDeltas.IsDefaultOrEmpty && chunk.FinishReason is null && chunk.Route is null
            ? null
            : chunk with { Usage = null };
    }
}
