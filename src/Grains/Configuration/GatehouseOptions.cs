using Gatehouse.Apps;
using Gatehouse.Caching;
using Gatehouse.Providers;
using Gatehouse.RateLimiting;
using Gatehouse.Responses;
using Gatehouse.Routing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Configuration;

/// <summary>The <c>Gatehouse</c> configuration section (see the README for the schema by example).</summary>
public sealed class GatehouseOptions
{
    public const string SectionName = "Gatehouse";

    /// <summary>Upstreams by name.</summary>
    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Model aliases by name: what callers put in <c>model</c>.</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Applications (tenants) by id.</summary>
    public Dictionary<string, AppOptions> Apps { get; set; } = new(StringComparer.Ordinal);
    [ValidateObjectMembers]
    public CacheOptions Cache { get; set; } = new();
    /// <summary>How requests queue for and draw on the distributed rate-limit buckets.</summary>
    [ValidateObjectMembers]
    public RateLimitOptions RateLimits { get; set; } = new();
    /// <summary>The admin API key (or <c>env:NAME</c>); the admin API is off when unset.</summary>
    public string? AdminKey { get; set; }
    [ValidateObjectMembers]
    public ClusterOptions Cluster { get; set; } = new();
    [ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();
    /// <summary>Largest request body accepted, in bytes. The default value is 4 MiB.</summary>
    [SettingRange(1, SettingBounds.MaxBytes)]
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;
    /// <summary>
    /// Whether image parts may name <c>http:</c> URLs (for a local model server on a trusted network). The default value
    /// is false: only <c>https:</c> and <c>data:</c> URLs are accepted, so the gateway is never a way to reach local files
    /// or internal services.
    /// </summary>
    public bool AllowHttpImageUrls { get; set; }
    [ValidateObjectMembers]
    public RoutingOptions Routing { get; set; } = new();
    public DashboardOptions Dashboard { get; set; } = new();
    [ValidateObjectMembers]
    public ResponsesOptions Responses { get; set; } = new();
}
