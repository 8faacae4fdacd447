using Gatehouse.Providers;

namespace Gatehouse.Tests.Support;

/// <summary>Registers a provider kind for validation without being able to build its adapter.</summary>
internal sealed class KindOnlyChatGatewayFactory(string kind, bool servesEmbeddings = false) : IChatGatewayFactory
{
    public string Kind => kind;

    public bool ServesEmbeddings => servesEmbeddings;

    public IChatGateway Create(string providerName, ProviderOptions options) =>
        throw new NotSupportedException($"Kind '{kind}' is registered for validation only.");
}
