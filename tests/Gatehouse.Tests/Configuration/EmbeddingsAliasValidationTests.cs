using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Gatehouse.Routing;
using Gatehouse.Tests.Support;
using Xunit;

namespace Gatehouse.Tests.Configuration;

public sealed class EmbeddingsAliasValidationTests
{
    private readonly GatehouseOptionsCrossFieldValidator _validator = new(
    [
        new SimulatedChatGatewayFactory(TimeProvider.System),
        new KindOnlyChatGatewayFactory(ProviderKinds.OpenAI, servesEmbeddings: true),
        new KindOnlyChatGatewayFactory(ProviderKinds.Anthropic),
    ]);

    [Fact]
    public void Collect_EmbeddingsAliasOnOpenAIAndSimulated_IsValid()
    {
        Assert.Empty(_validator.Collect(Options()));
    }

    [Fact]
    public void Collect_EmbeddingsAliasOnAnthropic_NamesTheTargetAndTheKindsThatServeEmbeddings()
    {
        var options = Options();
        options.Models["embed"].Targets.Add(new TargetOptions { Provider = "anthropic", Model = "claude" });

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal(
            "Gatehouse:Models:embed:Targets:2:Provider 'anthropic' is of kind Anthropic, which serves no embeddings (kinds that do: OpenAI, Simulated).",
            error);
    }

    [Fact]
    public void Collect_EmbeddingsFallbackToAChatAlias_NamesTheFallback()
    {
        var options = Options();
        options.Models["embed"].Fallbacks.Add("chat");

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:embed:Fallbacks:0 'chat' is a Chat alias; a fallback serves the same endpoint (Embeddings).", error);
    }

    [Fact]
    public void Collect_EmbeddingsAliasWithContextWindowFallbacks_IsRefused()
    {
        var options = Options();
        options.Models["embed-large"] = new ModelOptions { Type = ModelType.Embeddings, Targets = [new TargetOptions { Provider = "sim", Model = "e2" }] };
        options.Models["embed"].ContextWindowFallbacks.Add("embed-large");

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:embed:ContextWindowFallbacks is for chat aliases; an embeddings alias has none.", error);
    }

    private static GatehouseOptions Options() => new()
    {
        Providers =
        {
            ["sim"] = new ProviderOptions { Kind = ProviderKinds.Simulated },
            ["openai"] = new ProviderOptions { Kind = ProviderKinds.OpenAI, ApiKey = "sk-FAKE-test" },
            ["anthropic"] = new ProviderOptions { Kind = ProviderKinds.Anthropic, ApiKey = "sk-ant-FAKE-test" },
        },
        Models =
        {
            ["chat"] = new ModelOptions { Targets = [new TargetOptions { Provider = "anthropic", Model = "claude" }] },
            ["embed"] = new ModelOptions
            {
                Type = ModelType.Embeddings,
                Targets = [new TargetOptions { Provider = "openai", Model = "text-embedding-3-small" }, new TargetOptions { Provider = "sim", Model = "sim-embed" }],
            },
        },
        Apps = { ["web"] = new AppOptions { Keys = ["web-key"] } },
    };
}
