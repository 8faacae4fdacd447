using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>One call's ask of a scope's requests and tokens buckets: the resource a <see cref="QuotaRateLimiter"/> admits.</summary>
/// <param name="Scope">The buckets.</param>
/// <param name="Tokens">The call's estimated tokens (ignored when the scope has no tokens limit).</param>
/// <param name="AppId">The app the call belongs to: the authority serves apps of equal priority round-robin.</param>
/// <param name="Priority">Who is served first when the buckets are empty.</param>
/// <param name="MaxWait">How long the call may wait for capacity.</param>
public readonly record struct QuotaDemand(QuotaScope Scope, int Tokens, string AppId, RequestPriority Priority, TimeSpan MaxWait);
