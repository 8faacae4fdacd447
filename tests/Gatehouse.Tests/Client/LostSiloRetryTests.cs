using Gatehouse.Client;
using Gatehouse.Errors;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Xunit;

namespace Gatehouse.Tests.Client;

public sealed class LostSiloRetryTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task SiloWentAwayTwice_RetriedAfterAWait_AnswerOfTheThirdCall()
    {
        var retry = new LostSiloRetry(maxRetries: 2, _time);
        var calls = 0;

        var answer = RunAsync(retry, () => ++calls < 3 ? throw new SiloUnavailableException("silo stopping") : "answer");

        Assert.Equal(1, calls);
        Assert.False(answer.IsCompleted);
        Assert.Equal("answer", await AdvanceUntilDoneAsync(answer));
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task SiloWentAwayOnEveryTry_ClientErrorAfterMaxRetries_KeepingTheCause()
    {
        var retry = new LostSiloRetry(maxRetries: 2, _time);
        var calls = 0;

        var answer = RunAsync(retry, () => { calls++; throw new SiloUnavailableException("rejected"); });

        var error = await Assert.ThrowsAsync<GatewayException>(() => AdvanceUntilDoneAsync(answer));
        Assert.Equal(GatewayError.NoTargetAvailable, error.Error);
        Assert.IsType<SiloUnavailableException>(error.InnerException);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task NoAnswerWithinCallTimeout_NotRetried_UpstreamTimeout()
    {
        var retry = new LostSiloRetry(maxRetries: 2, _time);
        var calls = 0;

        var error = await Assert.ThrowsAsync<GatewayException>(
            () => RunAsync(retry, () => { calls++; throw new TimeoutException("no response"); }));

        Assert.Equal(GatewayError.UpstreamTimeout, error.Error);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task GatewayRefusedTheCall_NotRetried_ErrorUnchanged()
    {
        var retry = new LostSiloRetry(maxRetries: 2, _time);
        var calls = 0;
        var refused = new GatewayException(GatewayError.RateLimited, "Rate limit reached", retryAfter: TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<GatewayException>(() => RunAsync(retry, () => { calls++; throw refused; }));

        Assert.Same(refused, error);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task RetriesOff_SiloWentAway_FailsAtOnce()
    {
        var retry = new LostSiloRetry(maxRetries: 0, _time);
        var calls = 0;

        var error = await Assert.ThrowsAsync<GatewayException>(
            () => RunAsync(retry, () => { calls++; throw new SiloUnavailableException("gone"); }));

        Assert.Equal(GatewayError.NoTargetAvailable, error.Error);
        Assert.Equal(1, calls);
    }

    private static Task<string> RunAsync(LostSiloRetry retry, Func<string> call) =>
        retry.ExecuteAsync(_ => ValueTask.FromResult(call()), CancellationToken.None).AsTask();

    private async Task<string> AdvanceUntilDoneAsync(Task<string> answer)
    {
        // The waits are jittered; a minute of fake time covers both retries many times over.
        for (var step = 0; step < 600 && !answer.IsCompleted; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }

        return await answer;
    }
}
