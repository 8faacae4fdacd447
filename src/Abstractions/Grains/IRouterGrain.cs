using Gatehouse.Chat;
using Gatehouse.Embeddings;

namespace Gatehouse.Grains;

/// <summary>Routes requests for one model alias to its targets and fallbacks (key: the alias, see <see cref="GrainKeys"/>).</summary>
/// <remarks>
/// A stateless worker: every silo has its own activations, so routing never funnels the cluster's
/// traffic through one activation. Callers must have authenticated and authorized the app already.
/// Failures surface as <see cref="Errors.GatewayException"/>.
/// </remarks>
[Alias("gatehouse.IRouterGrain")]
public interface IRouterGrain : IGrainWithStringKey
{
    [Alias("Complete")]
    Task<ChatResponse> CompleteAsync(RoutedCall call, CancellationToken cancellationToken = default);

    /// <summary>Streams the answer; fails over only before the first chunk is yielded.</summary>
    [Alias("Stream")]
    IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, CancellationToken cancellationToken = default);

    /// <summary>The embeddings of <see cref="RoutedCall.Embedding"/>'s inputs, from the alias's embeddings targets.</summary>
    [Alias("Embed")]
    Task<EmbeddingResponse> EmbedAsync(RoutedCall call, CancellationToken cancellationToken = default);
}

/// <summary>A request on its way through the gateway, with who asked for it.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.RoutedCall")]
public sealed record RoutedCall
{
    /// <summary>The application (tenant) that made the call.</summary>
    [Id(0)] public required string AppId { get; init; }
    [Id(1)] public required ChatRequest Request { get; init; }
    /// <summary>Per-request controls (cache directives, priority, deadline) that are not part of the chat request itself.</summary>
    [Id(2)] public CallOptions Options { get; init; } = CallOptions.Default;
    /// <summary>
    /// What was left of the request's wait budget when the call was forwarded (the app quota may have spent some):
    /// a duration, since the next grain may run on another silo. Null: the whole budget of <see cref="Options"/>.
    /// </summary>
    [Id(3)] public TimeSpan? RemainingWait { get; init; }
    /// <summary>How the usage ledger marks the upstream calls made for this call: <c>miss</c> from the cache, else <c>bypass</c>.</summary>
    [Id(4)] public string CacheOutcome { get; init; } = Chat.CacheStatus.Bypass;
    /// <summary>
    /// Set for an embeddings call (<see cref="IRouterGrain.EmbedAsync"/>); <see cref="Request"/> then only names the
    /// alias (no messages), since the quota, the ledger and the metrics key every call by its alias.
    /// </summary>
    [Id(5)] public EmbeddingRequest? Embedding { get; init; }

    /// <summary>An embeddings call for <paramref name="appId"/>.</summary>
    public static RoutedCall ForEmbedding(string appId, EmbeddingRequest embedding, CallOptions options, TimeSpan? remainingWait) => new()
    {
        AppId = appId,
        Request = new ChatRequest { Model = embedding.Model, Messages = [] },
        Embedding = embedding,
        Options = options,
        RemainingWait = remainingWait,
    };
}

/// <summary>Per-request controls taken from the front end's headers; none of them changes the answer.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.CallOptions")]
public sealed record CallOptions
{
    public static readonly CallOptions Default = new();

    /// <summary><c>Cache-Control: no-cache</c>: do not answer from the cache.</summary>
    [Id(0)] public bool NoCacheRead { get; init; }
    /// <summary><c>Cache-Control: no-store</c>: do not store the answer.</summary>
    [Id(1)] public bool NoCacheStore { get; init; }
    /// <summary><c>x-gatehouse-cache: force</c>: cache and de-duplicate this request even if it is not deterministic.</summary>
    [Id(2)] public bool ForceCache { get; init; }
    /// <summary><c>x-gatehouse-priority</c>: may only lower the app's configured priority; null = the app's.</summary>
    [Id(3)] public RequestPriority? Priority { get; init; }
    /// <summary>
    /// <c>x-gatehouse-max-wait-ms</c>: one deadline for the whole request — the app quota, every target's buckets and
    /// slots, and the wait for an open circuit all spend from it (capped at <c>RateLimits:MaxWaitCapMs</c>). Null: the
    /// request's deadline is <c>Routing:MaxWaitMs</c> and each bucket wait is also limited to <c>RateLimits:DefaultMaxWaitMs</c>.
    /// </summary>
    [Id(4)] public TimeSpan? MaxWait { get; init; }
    /// <summary>
    /// The id naming this request in the caller's response and in the log lines written for it (the caller's
    /// <c>x-request-id</c>, or one the front end made). Null: lines are written without one.
    /// </summary>
    [Id(5)] public string? RequestId { get; init; }
}
