namespace Gatehouse.RateLimiting.Leases;

/// <summary>One authority's buckets as configured: per-minute limits (null = unlimited) and a concurrency cap.</summary>
public sealed record QuotaScope(QuotaScopeKind Kind, string Name, int? RequestsPerMinute, int? TokensPerMinute, int? MaxConcurrency = null)
{
    public bool HasRateLimits => RequestsPerMinute is not null || TokensPerMinute is not null;
}
