using Gatehouse.Tests.Support;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class RouterGrainClusterTests : IDisposable
{
    private readonly ClusterFixture _fixture;

    public RouterGrainClusterTests(ClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    private static ChatRequest Ask(string alias, string text) => new()
    {
        Model = alias,
        Messages = [ChatMessage.FromText(ChatRole.User, text)],
    };

    private static RoutedChatCall Call(string alias, string text = "hello") => RoutedChatCall.For("tester", Ask(alias, text));

    [Fact]
    public async Task Complete_OnEverySilo_RoundRobinsOverTheAliasTargetsOnThatSilo()
    {
        foreach (var silo in _fixture.Cluster.Silos)
        {
            var router = _fixture.GrainFactoryOf(silo).GetGrain<IRouterGrain>("balanced");
            var providers = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                var response = await router.CompleteAsync(Call("balanced"));
                providers.Add(response.Route!.Provider);
                Assert.Equal(1, response.Route.Attempts);
            }

            Assert.Equal(2, providers.Count(p => p == "alpha"));
            Assert.Equal(2, providers.Count(p => p == "beta"));
        }

        var alpha = _fixture.Upstreams.Get("alpha");
        var beta = _fixture.Upstreams.Get("beta");
        Assert.Equal(4, alpha.Calls);
        Assert.Equal(4, beta.Calls);
        // Each silo made its own upstream calls: routing is local to the silo that received the request.
        var silos = _fixture.Cluster.Silos.Select(s => s.Name).ToHashSet();
        Assert.Equal(silos, alpha.CallingSilos.Concat(beta.CallingSilos).ToHashSet());
    }

    [Fact]
    public async Task Complete_PrimaryFailsOnEitherSilo_FallbackAnswersWithTwoAttempts()
    {
        _fixture.Upstreams.Get("broken").FailWith(GatewayError.UpstreamFailed, 500);

        foreach (var silo in _fixture.Cluster.Silos)
        {
            var response = await _fixture.GrainFactoryOf(silo).GetGrain<IRouterGrain>("primary").CompleteAsync(Call("primary", "from " + silo.Name));

            Assert.Equal("backup", response.Route!.Provider);
            Assert.Equal("backup-model", response.Route.Model);
            Assert.Equal(2, response.Route.Attempts);
            Assert.Equal("backup says: from " + silo.Name, response.Message.Text);
        }

        Assert.Equal(2, _fixture.Upstreams.Get("broken").Calls);
        Assert.Equal(2, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Stream_PrimaryFailsBeforeFirstChunk_FallbackStreams()
    {
        _fixture.Upstreams.Get("broken").FailWith(GatewayError.UpstreamTimeout, null);

        foreach (var silo in _fixture.Cluster.Silos)
        {
            var router = _fixture.GrainFactoryOf(silo).GetGrain<IRouterGrain>("primary");
            var chunks = new List<ChatChunk>();
            await foreach (var chunk in router.StreamAsync(Call("primary", "stream me")))
            {
                chunks.Add(chunk);
            }

            Assert.Equal("backup", chunks[0].Route!.Provider);
            Assert.Equal(2, chunks[0].Route!.Attempts);
            Assert.Equal("backup says: stream me ", string.Concat(chunks.Select(c => c.TextDelta)));
            Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        }
    }

    [Fact]
    public async Task Stream_FailsAfterFirstChunk_DoesNotFailOver()
    {
        _fixture.Upstreams.Get("broken").GetStreamingResponseAsyncCallback = (request, _) => FailAfterFirstChunk(request);

        var router = _fixture.Cluster.Client.GetGrain<IRouterGrain>("primary");
        var received = new List<ChatChunk>();
        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in router.StreamAsync(Call("primary")))
            {
                received.Add(chunk);
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Single(received);
        Assert.Equal("partial", received[0].TextDelta);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Complete_UpstreamRejectsRequest_IsNotRetriedOrFallenBack()
    {
        _fixture.Upstreams.Get("picky").FailWith(GatewayError.InvalidRequest, 400);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            _fixture.Cluster.Client.GetGrain<IRouterGrain>("strict").CompleteAsync(Call("strict")));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(1, _fixture.Upstreams.Get("picky").Calls);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Complete_EveryTargetFails_ErrorNamesWhatWasTried()
    {
        _fixture.Upstreams.Get("broken").FailWith(GatewayError.UpstreamFailed, 503);
        _fixture.Upstreams.Get("backup").FailWith(GatewayError.UpstreamAuthFailed, 401);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            _fixture.Cluster.Client.GetGrain<IRouterGrain>("primary").CompleteAsync(Call("primary")));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("broken/broken-model: failed (HTTP 503)", error.Message);
        Assert.Contains("backup/backup-model (fallback): rejected the gateway's credentials (HTTP 401)", error.Message);
    }

    [Fact]
    public async Task Complete_EveryTargetTimesOut_IsUpstreamTimeout()
    {
        _fixture.Upstreams.Get("broken").FailWith(GatewayError.UpstreamTimeout, null);
        _fixture.Upstreams.Get("backup").FailWith(GatewayError.UpstreamTimeout, null);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            _fixture.Cluster.Client.GetGrain<IRouterGrain>("primary").CompleteAsync(Call("primary")));

        Assert.Equal(GatewayError.UpstreamTimeout, error.Error);
    }

    [Fact]
    public async Task GatewayGrain_AuthenticatesAndAuthorizesBeforeRouting()
    {
        var gateway = _fixture.Cluster.Client.GetGrain<IGatewayGrain>(GrainKeys.Gateway);

        var answer = await gateway.CompleteAsync(ClusterFixture.AppKey, Ask("secondary", "hi"));
        Assert.Equal("backup says: hi", answer.Message.Text);

        var unknownKey = await Assert.ThrowsAsync<GatewayException>(() => gateway.CompleteAsync("gk-wrong", Ask("secondary", "hi")));
        Assert.Equal(GatewayError.Unauthenticated, unknownKey.Error);

        var notAllowed = await Assert.ThrowsAsync<GatewayException>(() => gateway.CompleteAsync(ClusterFixture.RestrictedAppKey, Ask("balanced", "hi")));
        Assert.Equal(GatewayError.ModelNotAllowed, notAllowed.Error);

        var unknownModel = await Assert.ThrowsAsync<GatewayException>(() => gateway.CompleteAsync(ClusterFixture.AppKey, Ask("nope", "hi")));
        Assert.Equal(GatewayError.ModelNotFound, unknownModel.Error);

        Assert.Equal(["secondary"], await gateway.ListModelsAsync(ClusterFixture.RestrictedAppKey));
        Assert.Equal(1, _fixture.Upstreams.Get("backup").Calls);
    }

    private static async IAsyncEnumerable<ChatChunk> FailAfterFirstChunk(ChatRequest request)
    {
        yield return new ChatChunk { Id = "x", Model = request.Model, Role = ChatRole.Assistant, TextDelta = "partial" };
        await Task.Yield();
        throw new GatewayException(GatewayError.UpstreamFailed, "connection reset mid-stream");
    }
}
