using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Ledger;
using Gatehouse.Tests.Support;
using static Gatehouse.Tests.Routing.RoutingHarness;

namespace Gatehouse.Tests.Routing;

/// <summary>A hedged pair on the fake clock: the second target starts after the hedge delay, the first answer wins, and the loser is recorded once, cancelled.</summary>
public sealed class HedgedPairTests : IDisposable
{
    private static readonly TimeSpan HedgeAfter = TimeSpan.FromMilliseconds(100);

    private readonly RoutingHarness _harness = new(new GatehouseOptions
    {
        Providers = { ["slow"] = Provider(), ["quick"] = Provider() },
        Models = { ["hedged"] = new() { Targets = [Target("slow"), Target("quick")], HedgeAfterMs = (int)HedgeAfter.TotalMilliseconds } },
    });

    private readonly TaskCompletionSource _slowCalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Complete_FirstTargetSilentPastTheHedgeDelay_SecondAnswersAndTheLoserIsRecordedCancelled()
    {
        _harness.Upstreams.Get("slow").GetResponseAsyncCallback = async (_, cancellationToken) =>
        {
            _slowCalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        };

        var walking = _harness.CompleteAsync("hedged");
        await _slowCalled.Task.Within("the first target's call");
        _harness.Time.Advance(HedgeAfter);
        var (_, target, attempts) = await walking.Within("the hedged pair's answer");
        await _harness.Ledger.Reached(2).Within("both attempts recorded");

        Assert.Equal(("quick", 2), (target.Provider, attempts));
        Assert.Equal(
            [("quick", 2, UsageStatus.Ok), ("slow", 1, UsageStatus.Cancelled)],
            _harness.Ledger.Records.Select(r => (r.Provider, r.Attempts, r.Status)).Order());
        Assert.Equal(0, _harness.States.Get("slow").InFlight);
    }

    [Fact]
    public async Task Stream_LoserOpensAfterTheWinner_IsClosedUnreadAndRecordedCancelledWithoutTokens()
    {
        _harness.Upstreams.Get("slow").GetStreamingResponseAsyncCallback = OpensWhenCancelled;

        var walking = _harness.StreamAsync("hedged");
        await _slowCalled.Task.Within("the first target's call");
        _harness.Time.Advance(HedgeAfter);
        var (stream, target, attempts) = await walking.Within("the hedged pair's first chunk");
        while (await stream.MoveNextAsync())
        {
        }

        await stream.EndAsync(canceled: false);
        await _harness.Ledger.Reached(2).Within("both attempts recorded");

        Assert.Equal(("quick", 2), (target.Provider, attempts));
        Assert.Equal(
            [("quick", 2, UsageStatus.Ok), ("slow", 1, UsageStatus.Cancelled)],
            _harness.Ledger.Records.Select(r => (r.Provider, r.Attempts, r.Status)).Order());
        var loser = Assert.Single(_harness.Ledger.Records, r => r.Provider == "slow");
        Assert.Equal(("slow-model", 0, 0), (loser.Model, loser.PromptTokens, loser.CompletionTokens));
        Assert.Equal(0, _harness.States.Get("slow").InFlight);
        Assert.Equal(0, _harness.States.Get("quick").InFlight);
    }

    /// <summary>A stream whose first chunk arrives just as the hedge that lost cancels it (the race a real upstream can win).</summary>
    private async IAsyncEnumerable<ChatChunk> OpensWhenCancelled(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _slowCalled.TrySetResult();
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
}
