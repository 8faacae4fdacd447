using System.Collections.Frozen;

namespace Gatehouse.Providers;

/// <summary>The adapter of every configured provider on this silo, built once from config by each kind's factory.</summary>
/// <remarks>Adapters own pooled HTTP connections, so they are created once and shared by every request.</remarks>
public sealed class ProviderRegistry
{
    private readonly FrozenDictionary<string, IChatGatewayFactory> _factories;

    public ProviderRegistry(IEnumerable<IChatGatewayFactory> factories)
    {
        _factories = factories
            .GroupBy(f => f.Kind, StringComparer.OrdinalIgnoreCase)
            .ToFrozenDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Kinds => _factories.Keys;

    public IChatGateway Create(string providerName, ProviderOptions options) =>
        Create(providerName, options, UpstreamRedactor.ForProvider(options));

    /// <param name="providerName">The configured provider name.</param>
    /// <param name="options">The provider's options.</param>
    /// <param name="redactor">Removes credentials (every configured key) from the upstream text the adapter passes on.</param>
    public IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) =>
        _factories.TryGetValue(options.Kind, out var factory)
            ? factory.Create(providerName, options, redactor)
            : throw new InvalidOperationException($"No adapter is registered for provider kind '{options.Kind}' (provider '{providerName}').");
}
