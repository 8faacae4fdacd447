using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Providers.Local;

/// <summary>Creates the adapter for providers of kind <c>Ollama</c>: Ollama's native <c>/api/chat</c> and <c>/api/embed</c>.</summary>
/// <remarks>BaseUrl defaults to <c>http://127.0.0.1:11434</c> (without <c>/api</c> or <c>/v1</c>); ApiKey is optional.</remarks>
public sealed class OllamaChatGatewayFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IChatGatewayFactory
{
    public OllamaChatGatewayFactory()
        : this(TimeProvider.System, NullLoggerFactory.Instance)
    {
    }

    public string Kind => ProviderKinds.Ollama;

    public bool ServesEmbeddings => true;

    /// <exception cref="InvalidOperationException">The provider's BaseUrl is invalid.</exception>
    public IChatGateway Create(string providerName, ProviderOptions options) =>
        Create(providerName, options, UpstreamRedactor.ForProvider(options));

    /// <inheritdoc cref="Create(string, ProviderOptions)"/>
    public IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) =>
        new OllamaChatGateway(providerName, options, redactor, timeProvider, loggerFactory.CreateLogger<OllamaChatGateway>());
}
