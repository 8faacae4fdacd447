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

/// <summary>Creates the adapter for providers of kind <c>OpenAICompatible</c>: vLLM, llama.cpp, LM Studio and the like.</summary>
/// <remarks>
/// The BaseUrl is required; the ApiKey is optional, and no Authorization header is sent without one. The token limit
/// is sent as <c>max_tokens</c>, which such servers understand, rather than OpenAI's newer <c>max_completion_tokens</c>.
/// </remarks>
public sealed class OpenAICompatibleChatGatewayFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IChatGatewayFactory
{
    public OpenAICompatibleChatGatewayFactory()
        : this(TimeProvider.System, NullLoggerFactory.Instance)
    {
    }

    public string Kind => ProviderKinds.OpenAICompatible;

    public bool ServesEmbeddings => true;

    /// <exception cref="InvalidOperationException">The provider's BaseUrl is missing or invalid.</exception>
    public IChatGateway Create(string providerName, ProviderOptions options) =>
        Create(providerName, options, UpstreamRedactor.ForProvider(options));

    /// <inheritdoc cref="Create(string, ProviderOptions)"/>
    public IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) =>
        new OpenAIChatGateway(providerName, options, compatible: true, redactor, timeProvider, loggerFactory.CreateLogger<OpenAIChatGateway>());
}
