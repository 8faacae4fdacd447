namespace Gatehouse.RateLimiting.Leases;

/// <summary>What a set of buckets belongs to: an upstream (provider) or an application.</summary>
public enum QuotaScopeKind
{
    Provider = 0,
    App = 1,
}
