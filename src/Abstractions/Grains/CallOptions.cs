namespace Gatehouse.Grains;

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
