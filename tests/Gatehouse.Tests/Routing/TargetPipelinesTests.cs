using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Routing;
using Microsoft.Extensions.Time.Testing;
using Polly;

namespace Gatehouse.Tests.Routing;

public sealed class TargetPipelinesTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Create_NoRetries_IsTheEmptyPipeline()
    {
        Assert.Same(ResiliencePipeline.Empty, TargetPipelines.Create(new ProviderOptions(), TimeProvider.System));
    }

    [Fact]
    public async Task Execute_UpstreamSaysRetryAfter_WaitsExactlyThatLongOnTheInjectedClock()
    {
        var time = new FakeTimeProvider();
        var pipeline = TargetPipelines.Create(new ProviderOptions { Retries = 2, RetryDelayMs = 100 }, time);
        var calls = 0;

        var execution = pipeline.ExecuteAsync(
            _ => Interlocked.Increment(ref calls) == 1
                ? throw new GatewayException(GatewayError.RateLimited, "429", retryAfter: TimeSpan.FromSeconds(2), upstreamStatus: 429)
                : ValueTask.FromResult(42),
            CancellationToken.None).AsTask();

        Assert.Equal(1, Volatile.Read(ref calls));
        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.False(execution.IsCompleted, "the retry must wait for the upstream's retry-after (phase: before 2 s)");

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(42, await execution.WaitAsync(TestTimeout));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Execute_FailsEveryTime_StopsAfterConfiguredRetries()
    {
        var time = new FakeTimeProvider();
        var pipeline = TargetPipelines.Create(new ProviderOptions { Retries = 2, RetryDelayMs = 0 }, time);
        var calls = 0;

        var error = await Assert.ThrowsAsync<GatewayException>(() => pipeline.ExecuteAsync<int>(
            _ =>
            {
                Interlocked.Increment(ref calls);
                throw new GatewayException(GatewayError.UpstreamFailed, "500", upstreamStatus: 500);
            },
            CancellationToken.None).AsTask().WaitAsync(TestTimeout));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(3, calls);
    }

    [Theory]
    [InlineData(GatewayError.UpstreamFailed, null, true)]
    [InlineData(GatewayError.UpstreamTimeout, null, true)]
    [InlineData(GatewayError.RateLimited, 1.0, true)]
    [InlineData(GatewayError.RateLimited, null, false)]
    [InlineData(GatewayError.RateLimited, 60.0, false)]
    [InlineData(GatewayError.UpstreamFailed, 60.0, false)]
    [InlineData(GatewayError.UpstreamAuthFailed, null, false)]
    [InlineData(GatewayError.InvalidRequest, null, false)]
    [InlineData(GatewayError.ContextLengthExceeded, null, false)]
    public void IsWorthRetryingHere_ByErrorAndRetryAfter(GatewayError error, double? retryAfterSeconds, bool expected)
    {
        var exception = new GatewayException(error, "x", retryAfter: retryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null);

        Assert.Equal(expected, TargetPipelines.IsWorthRetryingHere(exception));
    }
}
