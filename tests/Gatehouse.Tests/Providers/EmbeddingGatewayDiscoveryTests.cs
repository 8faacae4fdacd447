using Gatehouse.Providers;
using Gatehouse.Providers.Anthropic;
using Gatehouse.Providers.Local;
using Gatehouse.Providers.OpenAI;
using Gatehouse.Providers.Simulated;
using Xunit;

namespace Gatehouse.Tests.Providers;

/// <summary>
/// Which adapters serve embeddings, as the router finds out: <c>GetService(typeof(IEmbeddingGateway))</c> on the
/// gateway it holds, through whatever decorators wrap the adapter.
/// </summary>
public sealed class EmbeddingGatewayDiscoveryTests : IDisposable
{
    private const string FakeKey = "sk-FAKE-discovery-key-0123456789";

    private readonly ProviderRegistry _registry = new(
    [
        new OpenAIChatGatewayFactory(),
        new OpenAICompatibleChatGatewayFactory(),
        new OllamaChatGatewayFactory(),
        new SimulatedChatGatewayFactory(TimeProvider.System),
        new AnthropicChatGatewayFactory(),
    ]);

    private readonly List<IChatGateway> _adapters = [];

    public void Dispose()
    {
        foreach (var adapter in _adapters)
        {
            (adapter as IDisposable)?.Dispose();
        }
    }

    [Theory]
    [InlineData(ProviderKinds.OpenAI)]
    [InlineData(ProviderKinds.OpenAICompatible)]
    [InlineData(ProviderKinds.Ollama)]
    [InlineData(ProviderKinds.Simulated)]
    public void GetService_ThroughDecorators_FindsTheAdapterAsEmbeddingGateway(string kind)
    {
        var adapter = Create(kind);
        IChatGateway decorated = new OuterDecorator(new InnerDecorator(adapter));

        Assert.Same(adapter, adapter.GetService(typeof(IEmbeddingGateway)));
        Assert.Same(adapter, decorated.GetService(typeof(IEmbeddingGateway)));
        Assert.Null(decorated.GetService(typeof(IEmbeddingGateway), serviceKey: "other"));
    }

    [Fact]
    public void GetService_Anthropic_HasNoEmbeddingGateway()
    {
        var adapter = Create(ProviderKinds.Anthropic);
        IChatGateway decorated = new OuterDecorator(new InnerDecorator(adapter));

        Assert.IsNotAssignableFrom<IEmbeddingGateway>(adapter);
        Assert.Null(adapter.GetService(typeof(IEmbeddingGateway)));
        Assert.Null(decorated.GetService(typeof(IEmbeddingGateway)));
        Assert.Same(adapter, decorated.GetService(adapter.GetType()));
    }

    [Fact]
    public void GetService_DecoratorType_ReturnsThatDecorator()
    {
        var inner = new InnerDecorator(Create(ProviderKinds.Simulated));
        var outer = new OuterDecorator(inner);

        Assert.Same(outer, outer.GetService(typeof(OuterDecorator)));
        Assert.Same(inner, outer.GetService(typeof(InnerDecorator)));
    }

    private IChatGateway Create(string kind)
    {
        var options = new ProviderOptions { Kind = kind, ApiKey = FakeKey, LatencyMs = 0 };
        if (kind == ProviderKinds.OpenAICompatible)
        {
            options.BaseUrl = "http://127.0.0.1:9/v1";
        }

        var adapter = _registry.Create($"test-{kind}", options);
        _adapters.Add(adapter);
        return adapter;
    }

    private sealed class InnerDecorator(IChatGateway inner) : DelegatingChatGateway(inner);

    private sealed class OuterDecorator(IChatGateway inner) : DelegatingChatGateway(inner);
}
