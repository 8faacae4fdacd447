using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Tests.Support;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>The response cache across three silos: single flight, streaming joins, failures, cancellation and TTL.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class ResponseCacheClusterTests : IDisposable
{
    private const int Callers = 200;

    private readonly CacheClusterFixture _fixture;
    private readonly GatedStream _gate = new();

    public ResponseCacheClusterTests(CacheClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    /// <summary>A deterministic request, unique to the test so that tests never share an entry.</summary>
    private static ChatRequest Deterministic([CallerMemberName] string text = "") => new()
    {
        Model = CacheClusterFixture.Alias,
        Messages = [ChatMessage.FromText(ChatRole.User, text)],
        Temperature = 0,
    };

    private InProcessSiloHandle Silo(int i) => _fixture.Cluster.Silos[i % _fixture.Cluster.Silos.Count];

    private Task<ChatResponse> Complete(int silo, ChatRequest request, CancellationToken cancellationToken = default) =>
        _fixture.PipelineOf(Silo(silo)).CompleteAsync(_fixture.App, request, CallOptions.Default, cancellationToken);

    private Task<ChatResponse> CompleteAsCountedApp(int silo, ChatRequest request) =>
        _fixture.PipelineOf(Silo(silo)).CompleteAsync(_fixture.AppOf(CacheClusterFixture.CountedAppKey), request, CallOptions.Default, CancellationToken.None);

    private async Task<List<ChatChunk>> Stream(int silo, ChatRequest request, CancellationToken cancellationToken = default, TaskCompletionSource? firstChunk = null)
    {
        var chunks = new List<ChatChunk>();
        await foreach (var chunk in _fixture.PipelineOf(Silo(silo)).StreamAsync(_fixture.App, request, CallOptions.Default, cancellationToken))
        {
            chunks.Add(chunk);
            firstChunk?.TrySetResult();
        }

        return chunks;
    }

    [Fact]
    public async Task GetResponse_ConcurrentIdenticalRequestsOnEverySilo_CallsUpstreamOnce()
    {
        // The first caller wants a whole answer, so the one upstream call is a non-streaming one.
        _fixture.Upstream.GetResponseAsyncCallback = _gate.Complete;
        var request = Deterministic();

        var calls = Enumerable.Range(0, Callers).Select(i => CompleteAsCountedApp(i, request)).ToList();
        await _gate.Started.Task.Within("the first caller's upstream call started");
        _gate.Release.SetResult();
        var answers = await Task.WhenAll(calls).Within($"{Callers} answers");

        Assert.Equal(1, _fixture.Upstream.Calls);
        Assert.All(answers, a => Assert.Equal("cacheup says: GetResponse_ConcurrentIdenticalRequestsOnEverySilo_CallsUpstreamOnce ", a.Message.Text));
        Assert.All(answers, a => Assert.Equal(13, a.Usage!.TotalTokens));
        Assert.Single(answers, a => a.Route!.Cache == CacheStatus.Miss);
        // Callers that reached the grain before the answer was complete joined it; any later ones were served from it.
        // How many of each depends on scheduling (the gate opens once the first call starts), so only the sum is exact;
        // joining an in-flight call is proven deterministically by the SingleFlightCache tests.
        Assert.Equal(Callers - 1, answers.Count(a => a.Route!.Cache is CacheStatus.Shared or CacheStatus.Hit));
        // Billed once; every other caller is counted as a saving of the same tokens.
        var usage = await _fixture.UsageOfAsync("counted");
        Assert.Equal((1, 10, 3), (usage.UpstreamCalls, usage.PromptTokens, usage.CompletionTokens));
        Assert.Equal(Callers - 1, usage.CacheAnswers);
        Assert.Equal((Callers - 1) * 10, usage.SavedPromptTokens);
    }

    [Fact]
    public async Task Stream_ConcurrentIdenticalRequestsOnEverySilo_CallsUpstreamOnceAndEveryoneGetsEveryChunk()
    {
        _fixture.Upstream.GetStreamingResponseAsyncCallback = _gate.Stream;
        var request = Deterministic() with { IncludeUsage = true };

        var streams = Enumerable.Range(0, Callers).Select(i => Stream(i, request)).ToList();
        // A non-streaming caller shares the same upstream call.
        var complete = Complete(1, request);
        await _gate.Started.Task.Within("the first caller's upstream call started");
        _gate.Release.SetResult();
        var results = await Task.WhenAll(streams).Within($"{Callers} streams");

        Assert.Equal(1, _fixture.Upstream.Calls);
        var expected = "cacheup says: Stream_ConcurrentIdenticalRequestsOnEverySilo_CallsUpstreamOnceAndEveryoneGetsEveryChunk ";
        foreach (var chunks in results)
        {
            Assert.Equal(expected, string.Concat(chunks.Select(c => c.TextDelta)));
            Assert.Equal(ChatRole.Assistant, chunks[0].Role);
            Assert.Equal(CacheClusterFixture.Provider, chunks[0].Route!.Provider);
            Assert.Equal(FinishReason.Stop, chunks[^2].FinishReason);
            Assert.Equal(13, chunks[^1].Usage!.TotalTokens);
        }

        Assert.Single(results, r => r[0].Route!.Cache == CacheStatus.Miss);
        Assert.Equal(expected, (await complete.Within("the non-streaming caller's answer")).Message.Text);
    }

    [Fact]
    public async Task GetResponse_DifferentRequests_UpstreamCallsSpreadOverTheSilos()
    {
        for (var i = 0; i < 30; i++)
        {
            await Complete(0, Deterministic("spread " + i));
        }

        Assert.Equal(30, _fixture.Upstream.Calls);
        // Each entry's upstream call runs on the silo its cache grain was placed on, not on the silo that was asked.
        Assert.True(_fixture.Upstream.CallingSilos.Distinct().Count() > 1, "all 30 upstream calls ran on one silo");
    }

    [Fact]
    public async Task GetResponse_UpstreamFails_IsNotCachedAndJoinersGetTheSameError()
    {
        _fixture.Upstream.FailWith(GatewayError.InvalidRequest, 400);
        var request = Deterministic();

        var errors = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Assert.ThrowsAsync<GatewayException>(() => Complete(i, request)))).Within("three failures");
        Assert.All(errors, e => Assert.Equal(GatewayError.InvalidRequest, e.Error));
        var afterFailure = _fixture.Upstream.Calls;

        _fixture.Upstream.Reset();
        var answer = await Complete(0, request);

        Assert.InRange(afterFailure, 1, 3);
        Assert.Equal(CacheStatus.Miss, answer.Route!.Cache);
        Assert.Equal(1, _fixture.Upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_OneCallerCanceled_OthersGetTheAnswerAndUpstreamIsNotCanceled()
    {
        // The first caller streams, so that joiners see chunks (and can be known to be attached) before the answer is complete.
        _fixture.Upstream.GetStreamingResponseAsyncCallback = _gate.Stream;
        var request = Deterministic();
        using var leaving = new CancellationTokenSource();

        var stayer = Stream(0, request);
        await _gate.Started.Task.Within("the first caller's upstream call started");
        var quitter = Complete(1, request, leaving.Token);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = Stream(2, request, firstChunk: joined);
        await joined.Task.Within("the streaming joiner's first chunk");
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter).Within("the cancelled caller's call to end");
        _gate.Release.SetResult();

        Assert.Equal(CacheStatus.Miss, (await stayer.Within("the first caller's answer"))[0].Route!.Cache);
        Assert.Equal(CacheStatus.Shared, (await other.Within("the streaming joiner's answer"))[0].Route!.Cache);
        Assert.False(_gate.Canceled.Task.IsCompleted, "the upstream call was cancelled");
        Assert.Equal(1, _fixture.Upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_EveryCallerCanceled_CancelsUpstreamAndCachesNothing()
    {
        _fixture.Upstream.GetStreamingResponseAsyncCallback = _gate.Stream;
        var request = Deterministic();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        // Both stream, so that the joiner is known to be attached (it has a chunk) before anyone leaves.
        var a = Stream(0, request, first.Token);
        await _gate.Started.Task.Within("the first caller's upstream call started");
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var b = Stream(1, request, second.Token, joined);
        // Cancel only once the joiner is attached, so that the upstream call really has two callers to lose.
        await joined.Task.Within("the streaming joiner's first chunk");
        await first.CancelAsync();
        await second.CancelAsync();

        await _gate.Canceled.Task.Within("the upstream call's token to be cancelled once every caller left");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a).Within("the first caller's call to end");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b).Within("the second caller's stream to end");

        _fixture.Upstream.GetStreamingResponseAsyncCallback = null;
        var answer = await Complete(2, request);
        Assert.Equal(CacheStatus.Miss, answer.Route!.Cache);
        Assert.Equal(2, _fixture.Upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_TtlElapsesOnTheGrainClock_CallsUpstreamAgain()
    {
        var request = Deterministic();
        Assert.Equal(CacheStatus.Miss, (await Complete(0, request)).Route!.Cache);
        _fixture.Time.Advance(TimeSpan.FromSeconds(CacheClusterFixture.TtlSeconds - 1));
        Assert.Equal(CacheStatus.Hit, (await Complete(1, request)).Route!.Cache);

        _fixture.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(CacheStatus.Miss, (await Complete(2, request)).Route!.Cache);
        Assert.Equal(2, _fixture.Upstream.Calls);
    }

    [Fact]
    public async Task GatewayGrain_DeterministicRequest_IsCachedAndNonDeterministicBypasses()
    {
        var gateway = _fixture.Cluster.Client.GetGrain<IGatewayGrain>(GrainKeys.Gateway);
        var request = Deterministic();

        var first = await gateway.CompleteAsync(CacheClusterFixture.AppKey, request);
        var second = await gateway.CompleteAsync(CacheClusterFixture.AppKey, request);
        var streamed = new List<ChatChunk>();
        await foreach (var chunk in gateway.StreamAsync(CacheClusterFixture.AppKey, request))
        {
            streamed.Add(chunk);
        }

        var random = await gateway.CompleteAsync(CacheClusterFixture.AppKey, request with { Temperature = 0.7 });
        var randomAgain = await gateway.CompleteAsync(CacheClusterFixture.AppKey, request with { Temperature = 0.7 });

        Assert.Equal(CacheStatus.Miss, first.Route!.Cache);
        Assert.Equal(CacheStatus.Hit, second.Route!.Cache);
        Assert.Equal(first.Message.Text, second.Message.Text);
        Assert.Equal(CacheStatus.Hit, streamed[0].Route!.Cache);
        Assert.Equal(first.Message.Text, string.Concat(streamed.Select(c => c.TextDelta)));
        Assert.DoesNotContain(streamed, c => c.Usage is not null);
        Assert.Equal(CacheStatus.Bypass, random.Route!.Cache);
        Assert.Equal(CacheStatus.Bypass, randomAgain.Route!.Cache);
        Assert.Equal(3, _fixture.Upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_HitFetchedFromAnotherSilosShard_IsKeptOnTheCallersSiloUntilTheSameExpiry()
    {
        var request = Deterministic();
        var key = _fixture.CacheStageOf(Silo(0)).CacheKey(_fixture.App, request, CallOptions.Default)!;
        await Complete(0, request);
        // The shard's silo stored it, and silo 0 (the caller's) kept it too: its expiry was in the answer. A third silo has none.
        var storedUntil = _fixture.StoreOf(Silo(0)).TryGet(key)!.ExpiresAt;
        var other = _fixture.Cluster.Silos.IndexOf(_fixture.Cluster.Silos.First(s => _fixture.StoreOf(s).TryGet(key) is null));

        Assert.Equal(CacheStatus.Hit, (await Complete(other, request)).Route!.Cache);
        var near = _fixture.StoreOf(Silo(other)).TryGet(key);

        Assert.NotNull(near);
        Assert.Equal(storedUntil, near.ExpiresAt);
        _fixture.Time.Advance(TimeSpan.FromSeconds(CacheClusterFixture.TtlSeconds));
        Assert.Equal(CacheStatus.Miss, (await Complete(other, request)).Route!.Cache);
        Assert.Equal(2, _fixture.Upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_TenTimesTheBudgetOfUniqueAnswers_EverySiloStaysWithinItAndKeepsTheRecentOnes()
    {
        var budget = CacheClusterFixture.MaxBytesPerSilo;
        var answerBytes = 0L;
        var requests = new List<ChatRequest>();
        for (var i = 0; answerBytes < 10 * budget * _fixture.Cluster.Silos.Count; i++)
        {
            var request = Deterministic($"budget {i} {new string('x', 8000)}");
            requests.Add(request);
            var answer = await Complete(i, request);
            answerBytes += 2 * answer.Message.Text.Length;
        }

        var evictions = 0L;
        foreach (var silo in _fixture.Cluster.Silos)
        {
            var store = _fixture.StoreOf(silo);
            Assert.True(store.Bytes <= budget, $"{store.Bytes} bytes stored, budget {budget}");
            evictions += store.Evictions;
        }

        Assert.True(evictions > 0, "nothing was evicted");
        Assert.Equal(CacheStatus.Miss, (await Complete(0, requests[0])).Route!.Cache);
        var calls = _fixture.Upstream.Calls;
        Assert.Equal(CacheStatus.Hit, (await Complete(1, requests[^1])).Route!.Cache);
        Assert.Equal(calls, _fixture.Upstream.Calls);
    }

    /// <summary>An upstream stream that yields its first chunk, then waits for <see cref="Release"/>; records cancellation.</summary>
    private sealed class GatedStream
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The same answer as a whole (a non-streaming upstream call), released by <see cref="Release"/>.</summary>
        public async Task<ChatResponse> Complete(ChatRequest request, CancellationToken cancellationToken)
        {
            cancellationToken.Register(() => Canceled.TrySetResult());
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return new ChatResponse
            {
                Id = "gated",
                Model = request.Model,
                Message = ChatMessage.FromText(ChatRole.Assistant, $"cacheup says: {request.Messages[^1].Text} "),
                Usage = new Usage { PromptTokens = 10, CompletionTokens = 3 },
            };
        }

        public async IAsyncEnumerable<ChatChunk> Stream(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Not disposed with the iterator: the signal must survive however the router ends the enumeration.
            cancellationToken.Register(() => Canceled.TrySetResult());
            yield return new ChatChunk { Id = "gated", Model = request.Model, Role = ChatRole.Assistant, TextDelta = "" };
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            yield return new ChatChunk { Id = "gated", Model = request.Model, TextDelta = $"cacheup says: {request.Messages[^1].Text} " };
            yield return new ChatChunk { Id = "gated", Model = request.Model, FinishReason = FinishReason.Stop };
            if (request.IncludeUsage)
            {
                yield return new ChatChunk { Id = "gated", Model = request.Model, Usage = new Usage { PromptTokens = 10, CompletionTokens = 3 } };
            }
        }
    }
}
