using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Routing;

/// <summary>How the router spends admissions: refusals are not retried, retries are admitted, and one deadline covers every target.</summary>
public sealed class RouterAdmissionTests(RouterAdmissionFixture fixture) : IClassFixture<RouterAdmissionFixture>, IDisposable
{
    // Cancels a call left waiting on the fake clock, so a regression fails the test instead of hanging the silo's shutdown.
    private readonly CancellationTokenSource _timeout = new(PhaseTimeouts.Default);

    public void Dispose() => _timeout.Dispose();

    private static RoutedChatCall Call(string alias, int maxWaitMs) => RoutedChatCall.For(
        "tester", new ChatRequest { Model = alias, Messages = [ChatMessage.FromText(ChatRole.User, "hello")] },
        new CallOptions { MaxWait = TimeSpan.FromMilliseconds(maxWaitMs) });

    [Fact]
    public async Task Complete_BucketRefusesWithRetriesConfigured_MovesOnWithoutRetryingTheTarget()
    {
        fixture.Authority.Refuse("busy");

        var response = await fixture.GrainFactory.GetGrain<IRouterGrain>("busy-chain").CompleteAsync(Call("busy-chain", maxWaitMs: 0), _timeout.Token)
            .Within("busy-chain answered by its fallback");

        Assert.Equal("spare", response.Route!.Provider);
        Assert.Equal(1, response.Route.Attempts);
        Assert.Equal(1, fixture.Authority.RequestsTo("busy"));
        Assert.Equal(0, fixture.Upstreams.Get("busy").Calls);
    }

    [Fact]
    public async Task Complete_UpstreamFailsWithRetriesConfigured_EveryRetryTakesItsOwnAdmission()
    {
        fixture.Upstreams.Get("flaky").FailWith(GatewayError.UpstreamFailed, 500);

        var failed = await Assert.ThrowsAsync<GatewayException>(() =>
            fixture.GrainFactory.GetGrain<IRouterGrain>("flaky-solo").CompleteAsync(Call("flaky-solo", maxWaitMs: 0), _timeout.Token).Within("flaky-solo failing"));

        Assert.Equal(GatewayError.UpstreamFailed, failed.Error);
        Assert.Equal(3, fixture.Upstreams.Get("flaky").Calls);
        Assert.Equal(3, fixture.Authority.RequestsTo("flaky"));
    }

    [Fact]
    public async Task Complete_TwoRateLimitedTargets_WaitAtMostTheRequestsBudgetInTotal()
    {
        fixture.Authority.Refuse("first");
        fixture.Authority.Refuse("second");
        var before = fixture.Authority.Requests.Count;

        var routing = fixture.GrainFactory.GetGrain<IRouterGrain>("two-limited").CompleteAsync(Call("two-limited", maxWaitMs: 1_000), _timeout.Token);
        await fixture.Authority.Reached(before + 1).Within("the first target's lease request");
        fixture.Time.Advance(TimeSpan.FromMilliseconds(1_000));
        var failed = await Assert.ThrowsAsync<GatewayException>(() => routing.Within("two-limited refused"));

        Assert.Equal(GatewayError.RateLimited, failed.Error);
        var waits = fixture.Authority.Requests.Skip(before).ToList();
        Assert.Equal(["first", "second"], waits.Select(w => w.Scope));
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), waits[0].Request.MaxWait);
        Assert.Equal(TimeSpan.Zero, waits[1].Request.MaxWait);
    }
}
