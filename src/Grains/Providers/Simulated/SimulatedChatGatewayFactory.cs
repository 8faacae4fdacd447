using Gatehouse.Configuration;

namespace Gatehouse.Providers.Simulated;

/// <summary>Creates <c>Simulated</c> providers.</summary>
public sealed class SimulatedChatGatewayFactory(TimeProvider timeProvider) : IChatGatewayFactory
{
    public string Kind => ProviderKinds.Simulated;

    public bool ServesEmbeddings => true;

    public IChatGateway Create(string providerName, ProviderOptions options) => new SimulatedChatGateway(providerName, options, timeProvider);
}
