using System.Collections.Frozen;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>The quota scopes of providers (configured, resolved once) and of apps (from this silo's app snapshot), and each app's priority.</summary>
/// <remarks>Thread-safe. An app's limits follow its record: a change made through the admin API applies here within the snapshot's refresh.</remarks>
public sealed class QuotaScopes
{
    private readonly FrozenDictionary<string, QuotaScope> _providers;
    private readonly IAppLimitsSource _apps;
    private readonly FrozenDictionary<string, int?> _providerMaxTokens;

    public QuotaScopes(IOptions<GatehouseOptions> options, IAppLimitsSource apps)
    {
        var gatehouse = options.Value;
        _providers = gatehouse.Providers.ToFrozenDictionary(
            p => p.Key, p => new QuotaScope(QuotaScopeKind.Provider, p.Key, p.Value.RequestsPerMinute, p.Value.TokensPerMinute, p.Value.MaxConcurrency), StringComparer.Ordinal);
        _providerMaxTokens = gatehouse.Providers.ToFrozenDictionary(p => p.Key, p => p.Value.DefaultMaxTokensEstimate, StringComparer.Ordinal);
        _apps = apps;
    }

    public QuotaScope Provider(string name) =>
        _providers.TryGetValue(name, out var scope) ? scope : new QuotaScope(QuotaScopeKind.Provider, name, null, null);

    public QuotaScope App(string appId) =>
        _apps.FindLimits(appId)?.Quota ?? new QuotaScope(QuotaScopeKind.App, appId, null, null);

    public int? ProviderDefaultMaxTokens(string name) => _providerMaxTokens.GetValueOrDefault(name);

    public int? AppDefaultMaxTokens(string appId) => _apps.FindLimits(appId)?.DefaultMaxTokensEstimate;

    /// <summary>The app's configured priority, lowered (never raised) by the request's <c>x-gatehouse-priority</c>.</summary>
    public RequestPriority PriorityOf(string appId, CallOptions options)
    {
        var configured = _apps.FindLimits(appId)?.Priority ?? RequestPriority.Normal;
        return options.Priority is { } asked && asked < configured ? asked : configured;
    }
}
