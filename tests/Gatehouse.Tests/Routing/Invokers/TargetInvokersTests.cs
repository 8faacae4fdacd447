using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Ledger;
using Gatehouse.Routing.Invokers;
using Gatehouse.Tests.Support;
using static Gatehouse.Tests.Routing.RoutingHarness;

namespace Gatehouse.Tests.Routing.Invokers;

/// <summary>
/// The invokers around one target's adapter call, as composed by <see cref="TargetInvokers"/>: the upstream's permit
/// (here its one concurrency slot) is held for the call and released however it ends, and each attempt leaves one
/// usage record.
/// </summary>
public sealed class TargetInvokersTests : IDisposable
{
    private readonly RoutingHarness _harness = new(new GatehouseOptions
    {
        Providers = { ["capped"] = Provider(retries: 1, maxConcurrency: 1) },
        Models = { ["capped-alias"] = new() { Targets = [Target("capped")] } },
    });

    public void Dispose() => _harness.Dispose();

    private Gatehouse.Tests.Fakes.FakeChatGateway Upstream => _harness.Upstreams.Get("capped");

    [Fact]
    public async Task Invoke_UpstreamAnswers_HoldsTheSlotForTheCallThenReleasesIt()
    {
        long? freeDuringCall = null;
        Upstream.GetResponseAsyncCallback = (request, _) =>
        {
            freeDuringCall = _harness.FreeSlots("capped");
            return Task.FromResult(Upstream.Reply(request));
        };

        var answer = await _harness.Invoker("capped-alias").InvokeAsync(_harness.Call("capped-alias"), CancellationToken.None).AsTask().Within("the call");

        Assert.Equal("capped-model", Assert.IsType<WholeAnswer<ChatResponse>>(answer).Response.Model);
        Assert.Equal(0, freeDuringCall);
        Assert.Equal(1, _harness.FreeSlots("capped"));
        Assert.Equal(0, _harness.States.Get("capped").InFlight);
    }

    [Fact]
    public async Task Invoke_UpstreamFailsEveryTry_ReleasesTheSlotOfEachTry()
    {
        Upstream.FailWith(GatewayError.UpstreamFailed, 500);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            _harness.Invoker("capped-alias").InvokeAsync(_harness.Call("capped-alias"), CancellationToken.None).AsTask().Within("the failing call"));

        // The retry could not have taken the only slot had the first try kept it.
        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(2, Upstream.Calls);
        Assert.Equal(1, _harness.FreeSlots("capped"));
        Assert.Equal(0, _harness.States.Get("capped").InFlight);
    }

    [Fact]
    public async Task Invoke_CallerCancels_ReleasesTheSlotAndRecordsTheAttemptCancelled()
    {
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Upstream.GetResponseAsyncCallback = async (_, cancellationToken) =>
        {
            called.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        };
        using var caller = new CancellationTokenSource();

        var call = _harness.Invoker("capped-alias").InvokeAsync(_harness.Call("capped-alias"), caller.Token).AsTask();
        await called.Task.Within("the upstream call");
        Assert.Equal(0, _harness.FreeSlots("capped"));
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within("the cancelled call"));

        Assert.Equal(1, _harness.FreeSlots("capped"));
        Assert.Equal(0, _harness.States.Get("capped").InFlight);
        Assert.Equal((1, UsageStatus.Cancelled), OnlyRecord(_harness.Ledger.Records));
    }

    [Fact]
    public async Task Stream_DisposedUnread_ReleasesTheSlotAndRecordsTheAttemptOnce()
    {
        var answer = await _harness.Invoker("capped-alias").InvokeAsync(_harness.Call("capped-alias", UpstreamOperation.Stream), CancellationToken.None)
            .AsTask().Within("the stream's first chunk");
        var stream = Assert.IsType<UpstreamStream>(answer);
        Assert.True(stream.HasFirst);
        Assert.Equal(0, _harness.FreeSlots("capped"));
        Assert.Equal(1, _harness.States.Get("capped").InFlight);
        Assert.Empty(_harness.Ledger.Records);

        await stream.DisposeAsync();
        await stream.DisposeAsync();

        Assert.Equal(1, _harness.FreeSlots("capped"));
        Assert.Equal(0, _harness.States.Get("capped").InFlight);
        Assert.Equal((1, UsageStatus.Error), OnlyRecord(_harness.Ledger.Records));
    }

    [Fact]
    public async Task Stream_ReadToTheEnd_ReleasesTheSlotAndRecordsTheUsageOfItsLastChunk()
    {
        var request = Ask("capped-alias") with { IncludeUsage = true };
        var call = _harness.Call("capped-alias", UpstreamOperation.Stream) with { Request = request };

        var stream = Assert.IsType<UpstreamStream>(await _harness.Invoker("capped-alias").InvokeAsync(call, CancellationToken.None).AsTask().Within("the stream"));
        while (await stream.MoveNextAsync())
        {
            Assert.Equal(0, _harness.FreeSlots("capped"));
        }

        await stream.EndAsync(canceled: false);

        Assert.Equal(1, _harness.FreeSlots("capped"));
        var record = Assert.Single(_harness.Ledger.Records);
        Assert.Equal((UsageStatus.Ok, 10, 3), (record.Status, record.PromptTokens, record.CompletionTokens));
    }

    [Fact]
    public async Task Invoke_FirstTryFailsThenRetryAnswers_RecordsOneUsageRecordPerAttempt()
    {
        var tries = 0;
        Upstream.GetResponseAsyncCallback = (request, _) => Interlocked.Increment(ref tries) == 1
            ? throw new GatewayException(GatewayError.UpstreamFailed, "capped failed", upstreamStatus: 502)
            : Task.FromResult(Upstream.Reply(request));
        var call = _harness.Call("capped-alias");

        await _harness.Invoker("capped-alias").InvokeAsync(call, CancellationToken.None).AsTask().Within("the retried call");

        Assert.Equal(2, call.Attempts.Count);
        Assert.Equal(
            [(1, nameof(GatewayError.UpstreamFailed), 0), (2, UsageStatus.Ok, 3)],
            _harness.Ledger.Records.Select(r => (r.Attempts, r.Status, r.CompletionTokens)));
        Assert.All(_harness.Ledger.Records, r => Assert.Equal(("tester", "capped-alias", "capped", "capped-model"), (r.AppId, r.Alias, r.Provider, r.Model)));
    }

    private static (int Attempt, string Status) OnlyRecord(IReadOnlyList<UsageRecord> records)
    {
        var record = Assert.Single(records);
        return (record.Attempts, record.Status);
    }
}
