using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Providers.OpenAI;

/// <summary>Creates the adapter for providers of kind <c>OpenAI</c>: api.openai.com (or a proxy of it), key required.</summary>
public sealed class OpenAIChatGatewayFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IChatGatewayFactory
{
    public OpenAIChatGatewayFactory()
        : this(TimeProvider.System, NullLoggerFactory.Instance)
    {
    }

    public string Kind => ProviderKinds.OpenAI;

    public bool ServesEmbeddings => true;

    /// <exception cref="InvalidOperationException">The provider's ApiKey is missing (or names an unset variable), or its BaseUrl is invalid.</exception>
    public IChatGateway Create(string providerName, ProviderOptions options) =>
        Create(providerName, options, UpstreamRedactor.ForProvider(options));

    /// <inheritdoc cref="Create(string, ProviderOptions)"/>
    public IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) =>
        new OpenAIChatGateway(providerName, options, compatible: false, redactor, timeProvider, loggerFactory.CreateLogger<OpenAIChatGateway>());
}
