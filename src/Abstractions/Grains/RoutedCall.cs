namespace Gatehouse.Grains;

/// <summary>
/// A call forwarded across a grain hop (to a cache shard or a router): who asked, for which alias, with which controls
/// and what is left of its wait budget. It is the same for every kind of request; the request itself (a
/// <see cref="Chat.ChatRequest"/> or an <see cref="Embeddings.EmbeddingRequest"/>) travels beside it.
/// </summary>
[GenerateSerializer, Immutable, Alias("gatehouse.RoutedCall")]
public sealed record RoutedCall
{
    /// <summary>The application (tenant) that made the call.</summary>
    [Id(0)] public required string AppId { get; init; }
    // Id 1 (the chat request) and Id 5 (the embeddings request) are retired: the request now travels beside the call.
    /// <summary>Per-request controls (cache directives, priority, deadline) that are not part of the request itself.</summary>
    [Id(2)] public CallOptions Options { get; init; } = CallOptions.Default;
    /// <summary>
    /// What was left of the request's wait budget when the call was forwarded (the app quota may have spent some):
    /// a duration, since the next grain may run on another silo. Null: the whole budget of <see cref="Options"/>.
    /// </summary>
    [Id(3)] public TimeSpan? RemainingWait { get; init; }
    /// <summary>How the usage ledger marks the upstream calls made for this call: <c>miss</c> from the cache, else <c>bypass</c>.</summary>
    [Id(4)] public string CacheOutcome { get; init; } = Chat.CacheStatus.Bypass;
    /// <summary>The model alias the caller asked for: the quota, the ledger and the metrics key every call by it.</summary>
    [Id(6)] public required string Alias { get; init; }
}
