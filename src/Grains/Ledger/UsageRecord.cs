namespace Gatehouse.Ledger;

/// <summary>
/// One line of the usage ledger: one upstream call (each attempt of a request, failed ones included), or one answer
/// served from the cache (<c>hit</c>) or from another caller's call (<c>shared</c>).
/// </summary>
/// <remarks>
/// A value type holding strings the request already had, so recording one allocates nothing. For a hit or a shared
/// answer the tokens are those of the answer (what it would have been billed), <see cref="CostUsd"/> is 0 and
/// <see cref="SavedUsd"/> is what it would have cost.
/// </remarks>
/// <param name="Time">When the call ended (UTC).</param>
/// <param name="Cache">A <see cref="Chat.CacheStatus"/> value: miss, hit, shared or bypass.</param>
/// <param name="Attempts">For an upstream call: which attempt of its request it was (1 = the first); 0 for a cache answer.</param>
/// <param name="Status"><see cref="UsageStatus.Ok"/>, or the error kind that ended the call.</param>
/// <param name="Priced">False when neither the alias nor the price table had a price for the model: the costs are then 0.</param>
public readonly record struct UsageRecord(
    DateTimeOffset Time,
    string AppId,
    string Alias,
    string Provider,
    string Model,
    int PromptTokens,
    int CompletionTokens,
    int CachedPromptTokens,
    decimal CostUsd,
    decimal SavedUsd,
    bool Priced,
    int LatencyMs,
    string Cache,
    int Attempts,
    string Status)
{
    /// <summary>True for an answer that cost an upstream call (miss or bypass), false for a hit or a shared answer.</summary>
    public bool IsUpstreamCall => Cache is Chat.CacheStatus.Miss or Chat.CacheStatus.Bypass;

    /// <summary>
    /// Whether the record stands for a caller's request: an answer from the cache or another caller's call, or a
    /// request's first upstream attempt (its retries and fallbacks are attempts 2, 3, …).
    /// </summary>
    public bool IsClientRequest => !IsUpstreamCall || Attempts <= 1;
}
