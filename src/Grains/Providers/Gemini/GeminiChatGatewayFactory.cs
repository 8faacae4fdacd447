using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Providers.Gemini;

/// <summary>Creates the adapter for providers of kind <c>Gemini</c>: Google's native Gemini API, key required.</summary>
/// <remarks>BaseUrl defaults to <c>https://generativelanguage.googleapis.com</c> (without <c>/v1beta</c>, which the adapter adds).</remarks>
public sealed class GeminiChatGatewayFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IChatGatewayFactory
{
    public GeminiChatGatewayFactory()
        : this(TimeProvider.System, NullLoggerFactory.Instance)
    {
    }

    public string Kind => ProviderKinds.Gemini;

    /// <summary>Gemini serves embeddings: <c>embedContent</c> and <c>batchEmbedContents</c>.</summary>
    public bool ServesEmbeddings => true;

    /// <exception cref="InvalidOperationException">The provider's ApiKey is missing (or names an unset variable), or its BaseUrl is invalid.</exception>
    public IChatGateway Create(string providerName, ProviderOptions options) =>
        Create(providerName, options, UpstreamRedactor.ForProvider(options));

    /// <inheritdoc cref="Create(string, ProviderOptions)"/>
    public IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) =>
        new GeminiChatGateway(providerName, options, redactor, timeProvider, loggerFactory.CreateLogger<GeminiChatGateway>());
}
