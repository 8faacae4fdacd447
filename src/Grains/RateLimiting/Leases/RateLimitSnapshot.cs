namespace Gatehouse.RateLimiting.Leases;

/// <summary>The caller's view of an app's limits, for the <c>x-ratelimit-*</c> headers.</summary>
/// <remarks>Remaining = the authority's remaining over the last minute at this silo's last grant + the unused units of this silo's lease.</remarks>
public sealed record RateLimitSnapshot(int? RequestsLimit, int? RequestsRemaining, int? TokensLimit, int? TokensRemaining);
