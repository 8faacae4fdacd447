using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gatehouse.Tests.Providers.Simulated;

public sealed class SimulatedEmbeddingsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Embed_SameInput_ReturnsSameVectorAcrossGateways()
    {
        var first = await Create().EmbedAsync(Request("hello there"));
        var second = await Create().EmbedAsync(Request("hello there"));

        Assert.Equal(Assert.Single(first.Vectors), Assert.Single(second.Vectors));
        Assert.Equal("sim-embed", first.Model);
        Assert.Null(first.Route);
    }

    [Fact]
    public async Task Embed_DifferentInputOrModel_ReturnsDifferentVectors()
    {
        var gateway = Create();

        var response = await gateway.EmbedAsync(Request("hello there", "goodbye", "hello there!"));
        var otherModel = await gateway.EmbedAsync(Request("hello there") with { Model = "sim-embed-2" });

        Assert.Equal(3, response.Vectors.Length);
        Assert.NotEqual(response.Vectors[0], response.Vectors[1]);
        Assert.NotEqual(response.Vectors[0], response.Vectors[2]);
        Assert.NotEqual(response.Vectors[0], otherModel.Vectors[0]);
    }

    [Fact]
    public async Task Embed_SameInputTwiceInOneRequest_ReturnsItsVectorTwice()
    {
        var response = await Create().EmbedAsync(Request("a", "b", "a"));

        Assert.Equal(response.Vectors[0], response.Vectors[2]);
        Assert.Equal(await SingleVectorAsync("b"), response.Vectors[1]);
    }

    [Theory]
    [InlineData(null, 256)]
    [InlineData(1, 1)]
    [InlineData(7, 7)]
    [InlineData(1536, 1536)]
    [InlineData(4096, 4096)]
    public async Task Embed_Dimensions_GivesUnitVectorsOfThatLength(int? dimensions, int expectedLength)
    {
        var response = await Create().EmbedAsync(Request("one", "two") with { Dimensions = dimensions });

        Assert.All(response.Vectors, vector =>
        {
            Assert.Equal(expectedLength, vector.Length);
            Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 5);
            Assert.All(vector, v => Assert.True(float.IsFinite(v)));
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(4097)]
    public async Task Embed_DimensionsOutOfRange_ThrowsInvalidRequest(int dimensions)
    {
        var error = await Assert.ThrowsAsync<GatewayException>(() => Create().EmbedAsync(Request("x") with { Dimensions = dimensions }));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("dimensions", error.Param);
    }

    [Fact]
    public async Task Embed_Inputs_CountsTokensAsChatDoes()
    {
        // About four characters a token, as the simulated chat counts a message's text ("hello there" is 11 → 3), without
        // chat's per-message overhead: an input is not a message.
        var response = await Create().EmbedAsync(Request("hello there", "abcd", ""));

        Assert.Equal(new Usage { PromptTokens = 3 + 1 + 0, CompletionTokens = 0 }, response.Usage);
    }

    [Fact]
    public async Task Embed_FailureRateOne_ThrowsUpstreamFailedAsChatDoes()
    {
        var error = await Assert.ThrowsAsync<GatewayException>(() => Create(failureRate: 1).EmbedAsync(Request("hello")));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(503, error.UpstreamStatus);
        Assert.Contains("'sim'", error.Message);
    }

    [Fact]
    public async Task Embed_Latency_AnswersOnlyAfterIt()
    {
        var time = new FakeTimeProvider(Now);
        var gateway = Create(latencyMs: 250, time: time);

        var pending = gateway.EmbedAsync(Request("hello"));
        time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(pending.IsCompleted, "the simulated embed answered before its 250 ms latency");
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Single((await pending.WaitAsync(TimeSpan.FromSeconds(10))).Vectors);
    }

    [Fact]
    public async Task Embed_CallerCancelsDuringLatency_ThrowsOperationCanceled()
    {
        var gateway = Create(latencyMs: 250, time: new FakeTimeProvider(Now));
        using var caller = new CancellationTokenSource();

        var pending = gateway.EmbedAsync(Request("hello"), caller.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task<float[]> SingleVectorAsync(string input) => Assert.Single((await Create().EmbedAsync(Request(input))).Vectors);

    private static IEmbeddingGateway Create(double failureRate = 0, int latencyMs = 0, TimeProvider? time = null)
    {
        var gateway = new SimulatedChatGatewayFactory(time ?? new FakeTimeProvider(Now)).Create(
            "sim",
            new ProviderOptions { Kind = ProviderKinds.Simulated, LatencyMs = latencyMs, FailureRate = failureRate });
        return Assert.IsAssignableFrom<IEmbeddingGateway>(gateway.GetService(typeof(IEmbeddingGateway)));
    }

    private static EmbeddingRequest Request(params string[] inputs) => new() { Model = "sim-embed", Inputs = [.. inputs] };
}
