using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>What rate limiting needs to know of one app: its own buckets, their burst, its priority and its default token estimate.</summary>
/// <param name="Quota">The app's own buckets (requests and tokens per minute).</param>
/// <param name="Burst">The app's <c>Burst</c>: at most this many requests at once (null = up to the whole limit).</param>
/// <param name="Priority">The app's configured priority; a request may only lower it.</param>
/// <param name="DefaultMaxTokensEstimate">The app's <c>DefaultMaxTokensEstimate</c>, used when a request names no max tokens.</param>
public sealed record AppLimits(QuotaScope Quota, int? Burst, RequestPriority Priority, int? DefaultMaxTokensEstimate);
