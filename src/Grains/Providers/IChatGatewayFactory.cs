namespace Gatehouse.Providers;

/// <summary>Creates the adapter for one configured provider of a given <see cref="Kind"/>.</summary>
/// <remarks>Register implementations as singletons; the <c>ProviderRegistry</c> picks one by the provider's <c>Kind</c>.</remarks>
public interface IChatGatewayFactory
{
    /// <summary>The provider kind this factory serves, as written in config (e.g. <c>OpenAI</c>); compared case-insensitively.</summary>
    string Kind { get; }

    /// <summary>Whether the adapters it creates serve embeddings (<see cref="IEmbeddingGateway"/>), so an <c>Embeddings</c> alias may target the kind.</summary>
    bool ServesEmbeddings => false;

    IChatGateway Create(string providerName, ProviderOptions options);

    /// <summary>
    /// Creates the adapter with the redactor for its upstream's text, which knows the key of every configured provider
    /// (an upstream may quote any header it was sent, and a misrouted key is still a key).
    /// </summary>
    /// <remarks>The default ignores the redactor, for factories whose adapters pass no upstream text on.</remarks>
    IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) => Create(providerName, options);
}
