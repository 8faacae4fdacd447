using System.Collections.Frozen;
using Gatehouse.Configuration;

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
        _factories.TryGetValue(options.Kind, out var factory)
            ? factory.Create(providerName, options)
            : throw new InvalidOperationException($"No adapter is registered for provider kind '{options.Kind}' (provider '{providerName}').");
}
