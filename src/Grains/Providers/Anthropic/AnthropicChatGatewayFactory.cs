using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers.Anthropic;

/// <summary>Creates the adapter for providers of kind <c>Anthropic</c>: api.anthropic.com (or a proxy of it), key required.</summary>
public sealed class AnthropicChatGatewayFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IChatGatewayFactory
{
    public AnthropicChatGatewayFactory()
        : this(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance)
    {
    }

    public string Kind => ProviderKinds.Anthropic;

    /// <exception cref="InvalidOperationException">The provider's ApiKey is missing (or names an unset variable), or its BaseUrl is invalid.</exception>
    public IChatGateway Create(string providerName, ProviderOptions options) =>
        Create(providerName, options, UpstreamRedactor.ForProvider(options));

    /// <inheritdoc cref="Create(string, ProviderOptions)"/>
    public IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) =>
        new AnthropicChatGateway(providerName, options, redactor, timeProvider, loggerFactory.CreateLogger<AnthropicChatGateway>());
}
