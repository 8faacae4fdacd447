using Gatehouse.Tests.Support;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Ledger;

namespace Gatehouse.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class ResilienceClusterTests : IDisposable
{
    private readonly ClusterFixture _fixture;

    public ResilienceClusterTests(ClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    private static RoutedChatCall Call(string alias, string text = "hello") =>
        RoutedChatCall.For("tester", new ChatRequest { Model = alias, Messages = [ChatMessage.FromText(ChatRole.User, text)] });

    [Fact]
    public async Task Complete_CircuitOpenedByFailuresOnOneSilo_OtherSiloStopsCallingTheUpstreamOnceReportsPropagate()
    {
        var fragile = _fixture.Upstreams.Get("fragile");
        fragile.FailWith(GatewayError.UpstreamFailed, 500);
        var (siloA, siloB) = (_fixture.Cluster.Silos[0], _fixture.Cluster.Silos[1]);
        var routerA = _fixture.GrainFactoryOf(siloA).GetGrain<IRouterGrain>("guarded");
        var routerB = _fixture.GrainFactoryOf(siloB).GetGrain<IRouterGrain>("guarded");

        // Two failures on silo A reach the threshold: A opens its own view at once, without waiting for the cluster.
        for (var i = 0; i < 2; i++)
        {
            var answer = await routerA.CompleteAsync(Call("guarded"));
            Assert.Equal("backup", answer.Route!.Provider);
            Assert.Equal(2, answer.Route.Attempts);
        }

        var skipped = await routerA.CompleteAsync(Call("guarded"));
        Assert.Equal(1, skipped.Route!.Attempts);
        Assert.Equal(2, fragile.Calls);

        // Silo A reports; the provider grain opens the cluster's circuit; silo B learns it from its own next report.
        await _fixture.ServiceOf<ProviderHealthReporter>(siloA).FlushAsync(CancellationToken.None);
        var health = await _fixture.Cluster.Client.GetGrain<IProviderGrain>("fragile").GetHealthAsync();
        Assert.Equal(CircuitState.Open, health.Circuit);
        await _fixture.ServiceOf<ProviderHealthReporter>(siloB).FlushAsync(CancellationToken.None);
        Assert.Equal(CircuitState.Open, _fixture.ServiceOf<UpstreamStates>(siloB).Get("fragile").Circuit);

        for (var i = 0; i < 3; i++)
        {
            var answer = await routerB.CompleteAsync(Call("guarded", "from B"));
            Assert.Equal("backup", answer.Route!.Provider);
            Assert.Equal(1, answer.Route.Attempts);
        }

        Assert.Equal(2, fragile.Calls);
        Assert.Equal([siloA.Name, siloA.Name], fragile.CallingSilos);
    }

    [Fact]
    public async Task Complete_RetryableFailureWithOneRetry_SucceedsOnTheSameTarget()
    {
        var retrier = _fixture.Upstreams.Get("retrier");
        var calls = 0;
        retrier.GetResponseAsyncCallback = (request, _) => Interlocked.Increment(ref calls) == 1
            ? throw new GatewayException(GatewayError.UpstreamFailed, "blip", upstreamStatus: 502)
            : Task.FromResult(retrier.Reply(request));

        var answer = await _fixture.Cluster.Client.GetGrain<IRouterGrain>("retried").CompleteAsync(Call("retried"));

        Assert.Equal("retrier", answer.Route!.Provider);
        Assert.Equal(2, answer.Route.Attempts);
        Assert.Equal(2, retrier.Calls);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Complete_FailsOnRetryToo_MovesOnToTheFallback()
    {
        _fixture.Upstreams.Get("retrier").FailWith(GatewayError.UpstreamFailed, 500);

        var answer = await _fixture.Cluster.Client.GetGrain<IRouterGrain>("retried").CompleteAsync(Call("retried"));

        Assert.Equal("backup", answer.Route!.Provider);
        Assert.Equal(3, answer.Route.Attempts);
        Assert.Equal(2, _fixture.Upstreams.Get("retrier").Calls);
    }

    [Fact]
    public async Task Complete_UpstreamRejectsRequest_IsNotRetriedEvenWithRetries()
    {
        _fixture.Upstreams.Get("retrier").FailWith(GatewayError.InvalidRequest, 400);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            _fixture.Cluster.Client.GetGrain<IRouterGrain>("retried").CompleteAsync(Call("retried")));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(1, _fixture.Upstreams.Get("retrier").Calls);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Complete_PromptTooLong_GoesToContextWindowFallbackNotOrdinaryFallback()
    {
        _fixture.Upstreams.Get("tiny").FailWith(GatewayError.ContextLengthExceeded, 400);

        var answer = await _fixture.Cluster.Client.GetGrain<IRouterGrain>("tiny-ctx").CompleteAsync(Call("tiny-ctx", "a very long prompt"));

        Assert.Equal("roomy", answer.Route!.Provider);
        Assert.Equal("roomy-model", answer.Route.Model);
        Assert.Equal(2, answer.Route.Attempts);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Complete_PromptTooLongForEveryWindow_IsContextLengthExceeded()
    {
        _fixture.Upstreams.Get("tiny").FailWith(GatewayError.ContextLengthExceeded, 400);
        _fixture.Upstreams.Get("roomy").FailWith(GatewayError.ContextLengthExceeded, 400);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            _fixture.Cluster.Client.GetGrain<IRouterGrain>("tiny-ctx").CompleteAsync(Call("tiny-ctx")));

        Assert.Equal(GatewayError.ContextLengthExceeded, error.Error);
        Assert.Equal(1, _fixture.Upstreams.Get("roomy").Calls);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task Complete_FirstTargetSlowerThanHedgeDelay_SecondAnswersAndFirstIsCancelled()
    {
        var sluggish = _fixture.Upstreams.Get("sluggish");
        var loserCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sluggish.GetResponseAsyncCallback = (_, cancellationToken) =>
        {
            // Never answers on its own: only the hedge's win (which cancels this call) ends it.
            var never = new TaskCompletionSource<ChatResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            cancellationToken.Register(() =>
            {
                loserCancelled.TrySetResult();
                never.TrySetCanceled(cancellationToken);
            });
            return never.Task;
        };

        var answer = await _fixture.GrainFactoryOf(_fixture.Cluster.Silos[0]).GetGrain<IRouterGrain>("hedged").CompleteAsync(Call("hedged"));

        Assert.Equal("nimble", answer.Route!.Provider);
        Assert.Equal(2, answer.Route.Attempts);
        Assert.Equal(1, sluggish.Calls);
        Assert.Equal(1, _fixture.Upstreams.Get("nimble").Calls);
        await loserCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, _fixture.ServiceOf<UpstreamStates>(_fixture.Cluster.Silos[0]).Get("sluggish").InFlight);
    }

    [Fact]
    public async Task Stream_FirstTargetSilentPastHedgeDelay_SecondStreamsAndFirstIsClosedAndReleased()
    {
        var sluggish = _fixture.Upstreams.Get("sluggish");
        var loserCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sluggish.GetStreamingResponseAsyncCallback = (_, cancellationToken) => Silent(loserCancelled, cancellationToken);

        var chunks = new List<ChatChunk>();
        await foreach (var chunk in _fixture.GrainFactoryOf(_fixture.Cluster.Silos[0]).GetGrain<IRouterGrain>("hedged-stream").StreamAsync(Call("hedged-stream")))
        {
            chunks.Add(chunk);
        }

        Assert.Equal("nimble", chunks[0].Route!.Provider);
        Assert.Equal(2, chunks[0].Route!.Attempts);
        Assert.Contains(chunks, c => c.FinishReason is not null);
        Assert.Equal(1, sluggish.Calls);
        Assert.Equal(1, _fixture.Upstreams.Get("nimble").Calls);
        await loserCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var states = _fixture.ServiceOf<UpstreamStates>(_fixture.Cluster.Silos[0]);
        Assert.Equal(0, states.Get("sluggish").InFlight);
        Assert.Equal(0, states.Get("nimble").InFlight);
    }

    [Fact]
    public async Task Stream_LosingHalfOpensAfterTheWinnerStarted_IsClosedAndRecordedAsCancelled()
    {
        var sluggish = _fixture.Upstreams.Get("sluggish");
        sluggish.GetStreamingResponseAsyncCallback = OpensWhenCancelled;

        var chunks = new List<ChatChunk>();
        await foreach (var chunk in _fixture.GrainFactoryOf(_fixture.Cluster.Silos[0]).GetGrain<IRouterGrain>("hedged-stream-late").StreamAsync(Call("hedged-stream-late")))
        {
            chunks.Add(chunk);
        }

        Assert.Equal("nimble", chunks[0].Route!.Provider);
        // The ledger writes every 250 ms; the loser is recorded once it has opened and been closed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        UsageRecord[] records = [];
        while (DateTime.UtcNow < deadline)
        {
            records = [.. _fixture.Cluster.Silos.SelectMany(s => _fixture.ServiceOf<MemoryUsageSink>(s).Snapshot()).Where(r => r.Alias == "hedged-stream-late")];
            if (records.Length == 2)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(
            [("nimble", UsageStatus.Ok), ("sluggish", UsageStatus.Cancelled)],
            records.Select(r => (r.Provider, r.Status)).Order().ToArray());
        var loser = Assert.Single(records, r => r.Provider == "sluggish");
        Assert.Equal(("sluggish-model", 0, 0m), (loser.Model, loser.CompletionTokens, loser.CostUsd));
        Assert.Equal(0, _fixture.ServiceOf<UpstreamStates>(_fixture.Cluster.Silos[0]).Get("sluggish").InFlight);
    }

    [Fact]
    public async Task Stream_UpstreamFailsAfterTheFirstChunk_RecordedWithTheFailuresKind()
    {
        UsageRecord[] Records() => [.. _fixture.Cluster.Silos.SelectMany(s => _fixture.ServiceOf<MemoryUsageSink>(s).Snapshot()).Where(r => r.Alias == "breaks-midway")];
        _fixture.Upstreams.Get("broken").GetStreamingResponseAsyncCallback = (request, _) => BreaksAfterFirstChunk(request);

        var router = _fixture.GrainFactoryOf(_fixture.Cluster.Silos[0]).GetGrain<IRouterGrain>("breaks-midway");
        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var _ in router.StreamAsync(Call("breaks-midway")))
            {
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Records().Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(nameof(GatewayError.UpstreamFailed), Assert.Single(Records()).Status);
    }

    private static async IAsyncEnumerable<ChatChunk> BreaksAfterFirstChunk(ChatRequest request)
    {
        yield return new ChatChunk { Id = "half", Model = request.Model, Role = ChatRole.Assistant, TextDelta = "half" };
        await Task.Yield();
        throw new GatewayException(GatewayError.UpstreamFailed, "the connection broke during the answer");
    }

    /// <summary>A stream whose first chunk arrives just as the hedge that lost cancels it (the race a real upstream can win).</summary>
    private static async IAsyncEnumerable<ChatChunk> OpensWhenCancelled(ChatRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        yield return new ChatChunk { Id = "late", Model = request.Model, Role = ChatRole.Assistant, TextDelta = "late" };
        yield return new ChatChunk { Id = "late", Model = request.Model, FinishReason = FinishReason.Stop };
    }

    /// <summary>A stream that sends nothing until its call is cancelled.</summary>
    private static async IAsyncEnumerable<ChatChunk> Silent(TaskCompletionSource cancelled, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.Register(() => cancelled.TrySetResult());
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }

    [Fact]
    public async Task Complete_FirstTargetAnswersBeforeHedgeDelay_SecondIsNeverCalled()
    {
        var answer = await _fixture.GrainFactoryOf(_fixture.Cluster.Silos[0]).GetGrain<IRouterGrain>("hedged-quick").CompleteAsync(Call("hedged-quick"));

        Assert.Equal("sluggish", answer.Route!.Provider);
        Assert.Equal(1, answer.Route.Attempts);
        Assert.Equal(0, _fixture.Upstreams.Get("nimble").Calls);
    }

    [Fact]
    public async Task ReportHealth_TwoSilosReportLoad_EachLearnsTheOthersInFlight()
    {
        // A provider name no other test uses: the grain needs no configuration to count load.
        var grain = _fixture.Cluster.Client.GetGrain<IProviderGrain>("load-" + Guid.NewGuid().ToString("n"));

        await grain.ReportHealthAsync(new ProviderHealthReport { SiloId = "a", InFlight = 3 });
        var seenByB = await grain.ReportHealthAsync(new ProviderHealthReport { SiloId = "b", InFlight = 5 });
        var seenByA = await grain.ReportHealthAsync(new ProviderHealthReport { SiloId = "a", InFlight = 1 });

        Assert.Equal(3, seenByB.OtherSilosInFlight);
        Assert.Equal(5, seenByA.OtherSilosInFlight);
        Assert.Equal(6, (await grain.GetHealthAsync()).InFlight);
    }
}
