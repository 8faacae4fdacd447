using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Cluster;

/// <summary>Embeddings across three silos: per-input cache entries, partly cached arrays, one shared flight, failures and fallbacks.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class EmbeddingCacheClusterTests : IDisposable
{
    private readonly CacheClusterFixture _fixture;

    public EmbeddingCacheClusterTests(CacheClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    private FakeChatGateway Upstream => _fixture.Upstreams.Get(CacheClusterFixture.EmbeddingsProvider);

    private FakeChatGateway Backup => _fixture.Upstreams.Get(CacheClusterFixture.EmbeddingsBackupProvider);

    /// <summary>Inputs unique to the test, so that tests never share an entry.</summary>
    private static string[] Inputs(int count, [CallerMemberName] string test = "") => [.. Enumerable.Range(0, count).Select(i => $"{test} input {i}")];

    private Task<EmbeddingResponse> Embed(int silo, IEnumerable<string> inputs, CallOptions? options = null) =>
        _fixture.EmbeddingsOf(silo % _fixture.Cluster.Silos.Count).EmbedAsync(
            _fixture.App, new EmbeddingRequest { Model = CacheClusterFixture.EmbeddingsAlias, Inputs = [.. inputs] }, options ?? CallOptions.Default, CancellationToken.None);

    [Fact]
    public async Task Embed_SameInputsThroughAnotherSilo_ServedFromCacheWithoutAnUpstreamCall()
    {
        var inputs = Inputs(3);

        var first = await Embed(0, inputs);
        var second = await Embed(1, inputs);

        Assert.Equal(1, Upstream.EmbedCalls);
        Assert.Equal(CacheStatus.Miss, first.Route!.Cache);
        Assert.Equal(CacheStatus.Hit, second.Route!.Cache);
        Assert.Equal(FakeChatGateway.TokensPerInput * 3, first.Usage!.PromptTokens);
        Assert.Equal(0, second.Usage!.PromptTokens);
        Assert.Equal(CacheClusterFixture.EmbeddingsProvider, second.Route.Provider);
        Assert.Equal(first.Vectors.Select(v => v.ToArray()), second.Vectors.Select(v => v.ToArray()));
        Assert.Equal(Upstream.Embed(new EmbeddingRequest { Model = "embed-model", Inputs = [.. inputs] }).Vectors.Select(v => v.ToArray()), first.Vectors.Select(v => v.ToArray()));
    }

    [Fact]
    public async Task Embed_PartlyCachedArray_OnlyTheMissingInputsGoUpstream_VectorsInTheRequestsOrder()
    {
        var inputs = Inputs(4);
        await Embed(0, [inputs[0], inputs[1]]);

        var mixed = await Embed(2, [inputs[2], inputs[1], inputs[3], inputs[0], inputs[2]]);

        Assert.Equal(2, Upstream.EmbedCalls);
        Assert.Equal([inputs[2], inputs[3]], Upstream.EmbeddingRequests.Last().Inputs.ToArray());
        Assert.Equal(FakeChatGateway.TokensPerInput * 2, mixed.Usage!.PromptTokens);
        var expected = Upstream.Embed(new EmbeddingRequest { Model = "embed-model", Inputs = [inputs[2], inputs[1], inputs[3], inputs[0], inputs[2]] });
        Assert.Equal(expected.Vectors.Select(v => v.ToArray()), mixed.Vectors.Select(v => v.ToArray()));
    }

    [Fact]
    public async Task Embed_ConcurrentIdenticalRequestsOnEverySilo_OneUpstreamCall()
    {
        var inputs = Inputs(2);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Upstream.EmbedAsyncCallback = async (request, _) =>
        {
            await release.Task;
            return Upstream.Embed(request);
        };

        var callers = Enumerable.Range(0, 9).Select(i => Embed(i, inputs)).ToList();
        await WaitUntilAsync(() => Upstream.EmbedCalls == 1);
        release.SetResult();
        var answers = await Task.WhenAll(callers);

        Assert.Equal(1, Upstream.EmbedCalls);
        Assert.Single(answers, a => a.Route!.Cache == CacheStatus.Miss);
        Assert.All(answers.Where(a => a.Route!.Cache != CacheStatus.Miss), a => Assert.Contains(a.Route!.Cache, new[] { CacheStatus.Shared, CacheStatus.Hit }));
        Assert.Equal(FakeChatGateway.TokensPerInput * 2, answers.Sum(a => a.Usage!.PromptTokens));
        Assert.All(answers, a => Assert.Equal(answers[0].Vectors.Select(v => v.ToArray()), a.Vectors.Select(v => v.ToArray())));
    }

    [Fact]
    public async Task Embed_UsageLedger_RecordsTheUpstreamsTokensPerCallAndTheCacheAnswers()
    {
        var app = _fixture.AppOf(CacheClusterFixture.EmbeddingsCountedAppKey);
        var inputs = Inputs(3);
        Task<EmbeddingResponse> EmbedAs(int silo, params string[] texts) => _fixture.EmbeddingsOf(silo).EmbedAsync(
            app, new EmbeddingRequest { Model = CacheClusterFixture.EmbeddingsAlias, Inputs = [.. texts] }, CallOptions.Default, CancellationToken.None);

        await EmbedAs(0, inputs[0], inputs[1]);
        await EmbedAs(1, inputs[0], inputs[1]);
        await EmbedAs(2, inputs[1], inputs[2]);

        var usage = await _fixture.UsageOfAsync("embed-counted");
        Assert.Equal(2, usage.UpstreamCalls);
        Assert.Equal(FakeChatGateway.TokensPerInput * 3, usage.PromptTokens);
        Assert.Equal(0, usage.CompletionTokens);
        Assert.Equal(1, usage.CacheAnswers);
    }

    [Fact]
    public async Task Embed_AppTokenQuota_SpendsExactlyWhatTheUpstreamBilled()
    {
        var app = _fixture.AppOf(CacheClusterFixture.EmbeddingsQuotaAppKey);
        var inputs = Inputs(2);

        await _fixture.EmbeddingsOf(0).EmbedAsync(
            app, new EmbeddingRequest { Model = CacheClusterFixture.EmbeddingsAlias, Inputs = [.. inputs] }, CallOptions.Default, CancellationToken.None);
        // Each silo hands its unused lease back and settles the difference between estimate and bill.
        foreach (var silo in _fixture.Cluster.Silos)
        {
            await _fixture.ServicesOf(silo).GetRequiredService<QuotaLeaseHolder>().ReturnAllAsync(CancellationToken.None);
        }

        var probe = await _fixture.GrainFactoryOf(0).GetGrain<IAppQuotaGrain>(GrainKeys.AppQuota("embed-quota"))
            .AcquireLeaseAsync(new LeaseRequest { HolderId = "probe", AppId = "embed-quota" });
        Assert.Equal(CacheClusterFixture.EmbeddingsQuotaTokensPerMinute - (FakeChatGateway.TokensPerInput * 2), probe.TokensRemaining);
    }

    [Fact]
    public async Task Flight_ArrivingJustAfterAnIdenticalFlightEnded_SharesItsAnswerWithoutAnUpstreamCall()
    {
        // A caller that missed while the first flight ran reaches the shard only after it ended and stored its vectors.
        var request = new EmbeddingRequest { Model = CacheClusterFixture.EmbeddingsAlias, Inputs = [.. Inputs(2)] };
        var keys = Gatehouse.Caching.EmbeddingCacheKeys.ForInputs(_fixture.App.CacheNamespace, request);
        var flightKey = Gatehouse.Caching.EmbeddingCacheKeys.ForFlight(keys);
        var shard = _fixture.GrainFactoryOf(0).GetGrain<IEmbeddingCacheGrain>(GrainKeys.EmbeddingCacheShard(flightKey));
        var call = new RoutedCall { AppId = _fixture.App.AppId, Alias = request.Model };

        var first = await shard.FlightAsync(flightKey, keys, call, request);
        var late = await shard.FlightAsync(flightKey, keys, call, request);

        Assert.Equal(1, Upstream.EmbedCalls);
        Assert.Equal(CacheStatus.Miss, first.Route!.Cache);
        Assert.Equal(CacheStatus.Shared, late.Route!.Cache);
        Assert.Equal(0, late.Usage!.PromptTokens);
        Assert.Equal(first.Vectors.Select(v => v.ToArray()), late.Vectors.Select(v => v.ToArray()));
    }

    [Fact]
    public async Task Embed_NoCacheRead_CallsUpstreamAgain()
    {
        var inputs = Inputs(1);
        await Embed(0, inputs);

        var fresh = await Embed(1, inputs, new CallOptions { NoCacheRead = true });

        Assert.Equal(2, Upstream.EmbedCalls);
        Assert.Equal(CacheStatus.Miss, fresh.Route!.Cache);
    }

    [Fact]
    public async Task Embed_UpstreamFailsThenRecovers_FailureIsNotCached()
    {
        var inputs = Inputs(1);
        Upstream.FailWith(GatewayError.InvalidRequest, 400);

        var error = await Assert.ThrowsAsync<GatewayException>(() => Embed(0, inputs));
        Upstream.EmbedAsyncCallback = null;
        var answer = await Embed(1, inputs);

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(2, Upstream.EmbedCalls);
        Assert.Equal(CacheStatus.Miss, answer.Route!.Cache);
    }

    [Fact]
    public async Task Embed_TargetFailsWithA503_FallbackAliasAnswers()
    {
        var inputs = Inputs(2);
        Upstream.FailWith(GatewayError.UpstreamFailed, 503);

        var answer = await Embed(0, inputs);

        Assert.Equal(1, Upstream.EmbedCalls);
        Assert.Equal(1, Backup.EmbedCalls);
        Assert.Equal(CacheClusterFixture.EmbeddingsBackupProvider, answer.Route!.Provider);
        Assert.Equal("embed-backup-model", answer.Model);
        Assert.Equal(2, answer.Route.Attempts);
        Assert.Equal(Backup.Embed(new EmbeddingRequest { Model = "x", Inputs = [.. inputs] }).Vectors.Select(v => v.ToArray()), answer.Vectors.Select(v => v.ToArray()));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 10 s");
            await Task.Delay(10);
        }
    }
}
