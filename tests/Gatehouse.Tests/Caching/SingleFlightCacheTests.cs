using System.Runtime.CompilerServices;
using Gatehouse.Caching;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Caching;

/// <summary>The cache grain's rules, without a cluster: a scripted upstream gated by barriers, and fake time.</summary>
public sealed class SingleFlightCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ScriptedUpstream _upstream = new();
    private const string Key = "0123456789abcdef";

    private readonly GatehouseOptions _settings = new() { Cache = { TtlSeconds = 60 } };
    private readonly ResponseStore _store;
    private readonly SingleFlightCache _cache;

    public SingleFlightCacheTests()
    {
        _store = new ResponseStore(new TestOptionsMonitor<GatehouseOptions>(_settings), _time);
        _cache = new SingleFlightCache(() => _settings.Cache, _store, _time, _upstream.StreamAsync, _upstream.CompleteAsync);
    }

    private CacheOptions Options => _settings.Cache;

    private async Task<ChatResponse> Complete(RoutedChatCall call, CancellationToken cancellationToken = default)
    {
        var answer = await _cache.CompleteAsync(Key, call.Call, call.Request, cancellationToken);
        var response = ChatResponseAssembler.Assemble(answer.Chunks);
        return response with { Route = response.Route! with { Cache = answer.Cache } };
    }

    private IAsyncEnumerable<ChatChunk> Stream(RoutedChatCall call, CancellationToken cancellationToken = default) =>
        Shaped(_cache.StreamAsync(Key, call.Call, call.Request, cancellationToken), call.Request.IncludeUsage);

    /// <summary>What the pipeline makes of the shard's stream for a caller.</summary>
    private static async IAsyncEnumerable<ChatChunk> Shaped(IAsyncEnumerable<ChatChunk> chunks, bool includeUsage)
    {
        await foreach (var chunk in chunks)
        {
            if (ChunkShaping.ForCaller(chunk, null, includeUsage) is { } shaped)
            {
                yield return shaped;
            }
        }
    }

    private static RoutedChatCall Call(string appId = "app", CallOptions? options = null, bool includeUsage = false, TimeSpan? remainingWait = null)
    {
        var call = RoutedChatCall.For(
            appId, new ChatRequest { Model = "m", Messages = [ChatMessage.FromText(ChatRole.User, "hi")], Temperature = 0, IncludeUsage = includeUsage }, options);
        return call with { Call = call.Call with { RemainingWait = remainingWait } };
    }

    [Fact]
    public async Task GetResponse_ConcurrentIdenticalRequests_CallsUpstreamOnce()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Complete(Call(), CancellationToken.None);
        var joiners = Enumerable.Range(0, 20).Select(_ => Complete(Call(), CancellationToken.None)).ToList();
        await _upstream.Started.Task.Within("upstream call started");

        _upstream.Gate.SetResult();
        var answers = await Task.WhenAll(joiners.Prepend(first)).Within("answers");

        Assert.Equal(1, _upstream.Calls);
        Assert.Equal(CacheStatus.Miss, answers[0].Route!.Cache);
        Assert.All(answers.Skip(1), a => Assert.Equal(CacheStatus.Shared, a.Route!.Cache));
        Assert.All(answers, a => Assert.Equal("hello world", a.Message.Text));
        Assert.All(answers, a => Assert.Equal(new Usage { PromptTokens = 5, CompletionTokens = 2 }, a.Usage));
    }

    [Fact]
    public async Task GetResponse_AfterAnswerStored_IsHitWithoutUpstreamCall()
    {
        await Complete(Call(), CancellationToken.None);

        var again = await Complete(Call(), CancellationToken.None);

        Assert.Equal(1, _upstream.Calls);
        Assert.Equal(CacheStatus.Hit, again.Route!.Cache);
        Assert.Equal("sim", again.Route.Provider);
        Assert.Equal(2, again.Route.Attempts);
    }

    [Fact]
    public async Task DoesNotCacheExceptionResults()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.FailAfterFirstChunk = new GatewayException(GatewayError.UpstreamFailed, "upstream broke", upstreamStatus: 500);
        var first = Complete(Call(), CancellationToken.None);
        var joiner = Complete(Call(), CancellationToken.None);
        await _upstream.Started.Task.Within("upstream call started");
        _upstream.Gate.SetResult();

        var errors = await Task.WhenAll(Assert.ThrowsAsync<GatewayException>(() => first), Assert.ThrowsAsync<GatewayException>(() => joiner)).Within("answers");
        Assert.All(errors, e => Assert.Equal(GatewayError.UpstreamFailed, e.Error));
        Assert.All(errors, e => Assert.Equal("upstream broke", e.Message));
        Assert.NotSame(errors[0], errors[1]);

        _upstream.FailAfterFirstChunk = null;
        _upstream.Gate = null;
        var retry = await Complete(Call(), CancellationToken.None);
        Assert.Equal(CacheStatus.Miss, retry.Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task DoesNotCacheCanceledResults()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var caller = new CancellationTokenSource();
        var first = Complete(Call(), caller.Token);
        await _upstream.Started.Task.Within("upstream call started");

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first).Within("answers");
        await _upstream.Canceled.Task.Within("upstream saw its token cancelled after the only caller left");
        Assert.Equal(0, _cache.InFlightCount);

        _upstream.Gate = null;
        var retry = await Complete(Call(), CancellationToken.None);
        Assert.Equal(CacheStatus.Miss, retry.Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_OneJoinerCanceled_OthersGetTheAnswerAndUpstreamIsNotCanceled()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leaving = new CancellationTokenSource();
        var first = Complete(Call(), CancellationToken.None);
        var quitter = Complete(Call(), leaving.Token);
        var stayer = Complete(Call(), CancellationToken.None);
        await _upstream.Started.Task.Within("upstream call started");

        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter).Within("answers");
        Assert.False(_upstream.Canceled.Task.IsCompleted);

        _upstream.Gate.SetResult();
        var answers = await Task.WhenAll(first, stayer).Within("answers");
        Assert.All(answers, a => Assert.Equal("hello world", a.Message.Text));
        Assert.Equal(1, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_StarterCanceledButJoinerWaits_UpstreamContinuesAndIsStored()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var starter = new CancellationTokenSource();
        var first = Complete(Call(), starter.Token);
        var joiner = Complete(Call(), CancellationToken.None);
        await _upstream.Started.Task.Within("upstream call started");

        await starter.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first).Within("answers");
        _upstream.Gate.SetResult();

        Assert.Equal(CacheStatus.Shared, (await joiner.Within("answers")).Route!.Cache);
        Assert.Equal(CacheStatus.Hit, (await Complete(Call(), CancellationToken.None)).Route!.Cache);
        Assert.Equal(1, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_AllCallersCanceled_CancelsUpstreamAndNextCallerStartsAfresh()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        var first = Complete(Call(), a.Token);
        var joiner = Complete(Call(), b.Token);
        await _upstream.Started.Task.Within("upstream call started");

        await a.CancelAsync();
        Assert.False(_upstream.Canceled.Task.IsCompleted);
        await b.CancelAsync();

        await _upstream.Canceled.Task.Within("upstream saw its token cancelled after both callers left");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(first, joiner)).Within("answers");
        _upstream.Gate = null;
        Assert.Equal(CacheStatus.Miss, (await Complete(Call(), CancellationToken.None)).Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_TtlElapsed_CallsUpstreamAgain()
    {
        await Complete(Call(), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(CacheStatus.Hit, (await Complete(Call(), CancellationToken.None)).Route!.Cache);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(_store.TryGet(Key));
        Assert.Equal(CacheStatus.Miss, (await Complete(Call(), CancellationToken.None)).Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_NoCache_SkipsStoredAnswerAndStoresTheFreshOne()
    {
        await Complete(Call(), CancellationToken.None);
        _upstream.Text = "fresh";

        var refreshed = await Complete(Call(options: new CallOptions { NoCacheRead = true }), CancellationToken.None);
        var after = await Complete(Call(), CancellationToken.None);

        Assert.Equal(CacheStatus.Miss, refreshed.Route!.Cache);
        Assert.Equal("fresh", refreshed.Message.Text);
        Assert.Equal(CacheStatus.Hit, after.Route!.Cache);
        Assert.Equal("fresh", after.Message.Text);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_NoStore_AnswersButDoesNotStore()
    {
        var first = await Complete(Call(options: new CallOptions { NoCacheStore = true }), CancellationToken.None);
        var second = await Complete(Call(), CancellationToken.None);

        Assert.Equal("hello world", first.Message.Text);
        Assert.Equal(CacheStatus.Miss, second.Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_AnswerLargerThanMaxEntryBytes_IsReturnedButNotStored()
    {
        Options.MaxEntryBytes = 1024;
        _upstream.Text = new string('x', 2048);

        var first = await Complete(Call(), CancellationToken.None);
        var second = await Complete(Call(), CancellationToken.None);

        Assert.Equal(2048, first.Message.Text.Length);
        Assert.Equal(CacheStatus.Miss, second.Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_CacheDisabled_AnswersButDoesNotStore()
    {
        Options.Enabled = false;

        await Complete(Call(), CancellationToken.None);
        var second = await Complete(Call(), CancellationToken.None);

        Assert.Equal(CacheStatus.Miss, second.Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task Stream_JoinsAfterChunksArrived_ReceivesEveryChunkFromTheStart()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Collect(Stream(Call(includeUsage: true), CancellationToken.None));
        await _upstream.Started.Task.Within("first chunk recorded");
        var joiner = Collect(Stream(Call(includeUsage: true), CancellationToken.None));
        var nonStreaming = Complete(Call(), CancellationToken.None);

        _upstream.Gate.SetResult();
        var (live, joined) = (await first.Within("answers"), await joiner.Within("answers"));

        Assert.Equal(1, _upstream.Calls);
        Assert.Equal(CacheStatus.Miss, live[0].Route!.Cache);
        Assert.Equal(CacheStatus.Shared, joined[0].Route!.Cache);
        Assert.Equal(live.Skip(1), joined.Skip(1));
        Assert.Equal(5, joined.Count);
        Assert.Equal("hello world", string.Concat(joined.Select(c => c.TextDelta)));
        Assert.Equal(FinishReason.Stop, joined[^2].FinishReason);
        Assert.Equal(7, joined[^1].Usage!.TotalTokens);
        var assembled = await nonStreaming.Within("answers");
        Assert.Equal("hello world", assembled.Message.Text);
        Assert.Equal(CacheStatus.Shared, assembled.Route!.Cache);
    }

    [Fact]
    public async Task Stream_Hit_ReplaysFinishAndUsageOnlyWhenAsked()
    {
        await Collect(Stream(Call(), CancellationToken.None));

        var withUsage = await Collect(Stream(Call(includeUsage: true), CancellationToken.None));
        var withoutUsage = await Collect(Stream(Call(includeUsage: false), CancellationToken.None));

        Assert.Equal(1, _upstream.Calls);
        Assert.True(_upstream.LastRequest!.IncludeUsage, "the upstream call always asks for usage");
        Assert.Equal(CacheStatus.Hit, withUsage[0].Route!.Cache);
        Assert.Equal(5, withUsage.Count);
        Assert.NotNull(withUsage[^1].Usage);
        Assert.Equal(4, withoutUsage.Count);
        Assert.All(withoutUsage, c => Assert.Null(c.Usage));
        Assert.Equal(FinishReason.Stop, withoutUsage[^1].FinishReason);
    }

    [Fact]
    public async Task Stream_JoinerCanceledMidStream_OthersReceiveTheWholeAnswer()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leaving = new CancellationTokenSource();
        var stayer = Collect(Stream(Call(), CancellationToken.None));
        await _upstream.Started.Task.Within("first chunk recorded");
        var quitter = Stream(Call(), leaving.Token).GetAsyncEnumerator(leaving.Token);
        Assert.True(await quitter.MoveNextAsync());
        var waiting = quitter.MoveNextAsync().AsTask();

        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).Within("answers");
        await quitter.DisposeAsync();
        _upstream.Gate.SetResult();

        Assert.Equal("hello world", string.Concat((await stayer.Within("answers")).Select(c => c.TextDelta)));
        Assert.False(_upstream.Canceled.Task.IsCompleted);
    }

    [Fact]
    public async Task GetResponse_FirstCallerRefusedByTheGatewaysQuotaWithinItsShorterWait_JoinerWithTimeLeftGetsItsOwnAnswer()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.FailAfterFirstChunk = new GatewayException(GatewayError.RateLimited, "upstream 'up' has no capacity within the request's wait", retryAfter: TimeSpan.FromSeconds(1));
        _upstream.FailOnce = true;
        var impatient = Complete(Call(remainingWait: TimeSpan.Zero), CancellationToken.None);
        var patient = Complete(Call(remainingWait: TimeSpan.FromSeconds(30)), CancellationToken.None);
        await _upstream.Started.Task.Within("upstream call started");

        _upstream.Gate.SetResult();

        Assert.Equal(GatewayError.RateLimited, (await Assert.ThrowsAsync<GatewayException>(() => impatient).Within("answers")).Error);
        var answer = await patient.Within("answers");
        Assert.Equal("hello world", answer.Message.Text);
        Assert.Equal(CacheStatus.Miss, answer.Route!.Cache);
        Assert.Equal(2, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_UpstreamRefusedWith429_JoinersShareTheRefusal()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.FailAfterFirstChunk = new GatewayException(GatewayError.RateLimited, "provider 'up' is rate limiting the gateway (HTTP 429)", upstreamStatus: 429);
        var first = Complete(Call(remainingWait: TimeSpan.Zero), CancellationToken.None);
        var joiner = Complete(Call(remainingWait: TimeSpan.FromSeconds(30)), CancellationToken.None);
        await _upstream.Started.Task.Within("upstream call started");

        _upstream.Gate.SetResult();

        await Assert.ThrowsAsync<GatewayException>(() => first).Within("answers");
        await Assert.ThrowsAsync<GatewayException>(() => joiner).Within("answers");
        Assert.Equal(1, _upstream.Calls);
    }

    [Fact]
    public async Task GetResponse_FirstCallerWantsTheWholeAnswer_OneNonStreamingUpstreamCallThatAStreamingJoinerShares()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var whole = Complete(Call(), CancellationToken.None);
        await _upstream.Started.Task.Within("upstream call started");
        var streamed = Collect(Stream(Call(includeUsage: true), CancellationToken.None));

        _upstream.Gate.SetResult();

        Assert.Equal("hello world", (await whole.Within("answers")).Message.Text);
        var chunks = await streamed.Within("answers");
        Assert.Equal(CacheStatus.Shared, chunks[0].Route!.Cache);
        Assert.Equal("hello world", string.Concat(chunks.Select(c => c.TextDelta)));
        Assert.Equal(FinishReason.Stop, chunks.Single(c => c.FinishReason is not null).FinishReason);
        Assert.Equal(7, chunks[^1].Usage!.TotalTokens);
        Assert.Equal(1, _upstream.Calls);
        Assert.Equal(1, _upstream.WholeCalls);
    }

    [Fact]
    public async Task Stream_FirstCallerStreams_UpstreamCallIsAStream()
    {
        await Collect(Stream(Call(), CancellationToken.None));

        Assert.Equal(1, _upstream.Calls);
        Assert.Equal(0, _upstream.WholeCalls);
    }

    private static async Task<List<ChatChunk>> Collect(IAsyncEnumerable<ChatChunk> chunks)
    {
        var list = new List<ChatChunk>();
        await foreach (var chunk in chunks)
        {
            list.Add(chunk);
        }

        return list;
    }

    /// <summary>Streams "hello world" as the router would (route on the first chunk), pausing after it on <see cref="Gate"/>.</summary>
    private sealed class ScriptedUpstream
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public TaskCompletionSource? Gate { get; set; }

        public Exception? FailAfterFirstChunk { get; set; }

        /// <summary>Only the next call fails with <see cref="FailAfterFirstChunk"/>.</summary>
        public bool FailOnce { get; set; }

        public string Text { get; set; } = "hello world";

        public ChatRequest? LastRequest { get; private set; }

        /// <summary>Set once the first chunk of a call has been yielded.</summary>
        public TaskCompletionSource Started { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set when a call observes its token cancelled.</summary>
        public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The same scripted answer as one whole response (what a non-streaming upstream call returns).</summary>
        public async Task<ChatResponse> CompleteAsync(RoutedCall call, ChatRequest request, CancellationToken cancellationToken)
        {
            WholeCalls++;
            var chunks = new List<ChatChunk>();
            await foreach (var chunk in StreamAsync(call, request with { IncludeUsage = true }, cancellationToken))
            {
                chunks.Add(chunk);
            }

            return ChatResponseAssembler.Assemble(chunks);
        }

        /// <summary>How many of <see cref="Calls"/> were whole-answer (non-streaming) calls.</summary>
        public int WholeCalls { get; private set; }

        public async IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            LastRequest = request;
            cancellationToken.Register(() => Canceled.TrySetResult());
            var route = new RouteInfo { Provider = "sim", Model = "sim-1", Attempts = 2 };
            yield return new ChatChunk { Id = "c1", Model = "sim-1", Role = ChatRole.Assistant, TextDelta = "", Route = route };
            Started.TrySetResult();
            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            if (FailAfterFirstChunk is { } error)
            {
                if (FailOnce)
                {
                    FailAfterFirstChunk = null;
                }

                throw error;
            }

            var split = Text.IndexOf(' ', StringComparison.Ordinal);
            yield return new ChatChunk { Id = "c1", Model = "sim-1", TextDelta = split < 0 ? Text : Text[..split] };
            yield return new ChatChunk { Id = "c1", Model = "sim-1", TextDelta = split < 0 ? "" : Text[split..] };
            yield return new ChatChunk { Id = "c1", Model = "sim-1", FinishReason = FinishReason.Stop };
            if (request.IncludeUsage)
            {
                yield return new ChatChunk { Id = "c1", Model = "sim-1", Usage = new Usage { PromptTokens = 5, CompletionTokens = 2 } };
            }
        }
    }
}
