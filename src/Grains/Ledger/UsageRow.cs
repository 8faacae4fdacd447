namespace Gatehouse.Ledger;

/// <summary>One row of a usage query: the grouped-by fields (null when not grouped by), and the sums of its records.</summary>
/// <param name="Requests">Records: upstream calls (every attempt) plus answers from the cache or shared.</param>
/// <param name="UpstreamCalls">Records of upstream calls (miss or bypass), failed attempts included.</param>
/// <param name="CacheHits">Answers served from the cache or shared with another caller's call.</param>
/// <param name="PromptTokens">Prompt tokens billed upstream (cache answers not included).</param>
/// <param name="CompletionTokens">Completion tokens billed upstream (cache answers not included).</param>
/// <param name="SavedUsd">What the cache answers would have cost.</param>
public sealed record UsageRow(
    string? App,
    string? Alias,
    string? Provider,
    DateOnly? Day,
    long Requests,
    long UpstreamCalls,
    long CacheHits,
    long PromptTokens,
    long CompletionTokens,
    decimal CostUsd,
    decimal SavedUsd);
