using System.Collections.Frozen;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;

namespace Gatehouse.RateLimiting;

/// <summary>The configured quota scopes (providers and apps), resolved once, and each app's priority.</summary>
/// <remarks>Thread-safe; read-only after construction.</remarks>
public sealed class QuotaScopes
{
    private readonly FrozenDictionary<string, QuotaScope> _providers;
    private readonly FrozenDictionary<string, (QuotaScope Scope, RequestPriority Priority, int? DefaultMaxTokens)> _apps;
    private readonly FrozenDictionary<string, int?> _providerMaxTokens;

    public QuotaScopes(IOptions<GatehouseOptions> options)
    {
        var gatehouse = options.Value;
        _providers = gatehouse.Providers.ToFrozenDictionary(
            p => p.Key, p => new QuotaScope(QuotaScopeKind.Provider, p.Key, p.Value.RequestsPerMinute, p.Value.TokensPerMinute, p.Value.MaxConcurrency), StringComparer.Ordinal);
        _providerMaxTokens = gatehouse.Providers.ToFrozenDictionary(p => p.Key, p => p.Value.DefaultMaxTokensEstimate, StringComparer.Ordinal);
        _apps = gatehouse.Apps.ToFrozenDictionary(
            a => a.Key,
            a => (new QuotaScope(QuotaScopeKind.App, a.Key, a.Value.RequestsPerMinute, a.Value.TokensPerMinute), a.Value.Priority, a.Value.DefaultMaxTokensEstimate),
            StringComparer.Ordinal);
    }

    public QuotaScope Provider(string name) =>
        _providers.TryGetValue(name, out var scope) ? scope : new QuotaScope(QuotaScopeKind.Provider, name, null, null);

    public QuotaScope App(string appId) =>
        _apps.TryGetValue(appId, out var app) ? app.Scope : new QuotaScope(QuotaScopeKind.App, appId, null, null);

    public int? ProviderDefaultMaxTokens(string name) => _providerMaxTokens.GetValueOrDefault(name);

    public int? AppDefaultMaxTokens(string appId) => _apps.TryGetValue(appId, out var app) ? app.DefaultMaxTokens : null;

    /// <summary>The app's configured priority, lowered (never raised) by the request's <c>x-gatehouse-priority</c>.</summary>
    public RequestPriority PriorityOf(string appId, CallOptions options)
    {
        var configured = _apps.TryGetValue(appId, out var app) ? app.Priority : RequestPriority.Normal;
        return options.Priority is { } asked && asked < configured ? asked : configured;
    }
}
