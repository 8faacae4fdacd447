using Gatehouse.Client;
using Gatehouse.Errors;
using Gatehouse.Tests.Cluster;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gatehouse.Tests.Client;

/// <summary>The client library's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> against a three-silo TestingHost cluster.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class GatehouseEmbeddingGeneratorClusterTests : IDisposable
{
    private readonly CacheClusterFixture _fixture;

    public GatehouseEmbeddingGeneratorClusterTests(CacheClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    private FakeChatGateway Upstream => _fixture.Upstreams.Get(CacheClusterFixture.EmbeddingsProvider);

    private GatehouseEmbeddingGenerator CreateGenerator(string? model = CacheClusterFixture.EmbeddingsAlias) =>
        new(_fixture.Cluster.Client, Options.Create(new GatehouseClientOptions { AppKey = CacheClusterFixture.AppKey, DefaultEmbeddingModel = model }));

    [Fact]
    public async Task Generate_ThroughTheGrains_VectorsUsageAndRoute()
    {
        IEmbeddingGenerator<string, Embedding<float>> generator = CreateGenerator();
        string[] inputs = ["grain client: first", "grain client: second"];

        var embeddings = await generator.GenerateAsync(inputs);
        var again = await generator.GenerateAsync(inputs);

        var expected = Upstream.Embed(new Gatehouse.Embeddings.EmbeddingRequest { Model = "embed-model", Inputs = [.. inputs] });
        Assert.Equal(expected.Vectors.Select(v => v.ToArray()), embeddings.Select(e => e.Vector.ToArray()));
        Assert.All(embeddings, e => Assert.Equal("embed-model", e.ModelId));
        Assert.Equal(FakeChatGateway.TokensPerInput * 2, embeddings.Usage?.InputTokenCount);
        Assert.Equal(CacheClusterFixture.EmbeddingsProvider, embeddings.AdditionalProperties?["gatehouse.provider"]);
        Assert.Equal("miss", embeddings.AdditionalProperties?["gatehouse.cache"]);
        Assert.Equal("hit", again.AdditionalProperties?["gatehouse.cache"]);
        Assert.Equal(1, Upstream.EmbedCalls);
    }

    [Fact]
    public async Task ChatClient_ManyCalls_AreSpreadOverTheGatewaySilos()
    {
        IChatClient chat = new GatehouseChatClient(
            _fixture.Cluster.Client, Options.Create(new GatehouseClientOptions { AppKey = CacheClusterFixture.AppKey, DefaultModel = CacheClusterFixture.Alias }));

        for (var i = 0; i < 30; i++)
        {
            // Not deterministic (no temperature): each call goes upstream, from the silo whose gateway took it.
            await chat.GetResponseAsync($"spread {i}");
        }

        var upstream = _fixture.Upstreams.Get(CacheClusterFixture.Provider);
        Assert.Equal(30, upstream.Calls);
        Assert.True(upstream.CallingSilos.Distinct().Count() >= 2, $"every call went through {string.Join(", ", upstream.CallingSilos.Distinct())}");
    }

    [Fact]
    public async Task Generate_ChatAlias_GatewayExceptionNamingTheModel()
    {
        var generator = CreateGenerator(model: CacheClusterFixture.Alias);

        var error = await Assert.ThrowsAsync<GatewayException>(() => generator.GenerateAsync(["x"]));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("model", error.Param);
        Assert.Equal(0, Upstream.EmbedCalls);
    }

    [Fact]
    public async Task Generate_NoModel_FailsLocallyNamingTheModel()
    {
        var generator = CreateGenerator(model: null);

        var error = await Assert.ThrowsAsync<GatewayException>(() => generator.GenerateAsync(["x"]));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("model", error.Param);
    }
}
