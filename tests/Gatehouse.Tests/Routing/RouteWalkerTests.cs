using System.Collections.Concurrent;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Routing;
using Gatehouse.Tests.Support;
using static Gatehouse.Tests.Routing.RoutingHarness;

namespace Gatehouse.Tests.Routing;

/// <summary>The alias walk without a silo: fallback order, the context-window switch, the exhausted error, load balancing.</summary>
public sealed class RouteWalkerTests
{
    private readonly ConcurrentQueue<string> _called = new();

    private static GatehouseOptions Options(Dictionary<string, ModelOptions> models, string strategy = "RoundRobin")
    {
        var options = new GatehouseOptions();
        foreach (var provider in models.Values.SelectMany(m => m.Targets).Select(t => t.Provider).Distinct())
        {
            options.Providers[provider] = Provider();
        }

        foreach (var (alias, model) in models)
        {
            model.Strategy = strategy;
            options.Models[alias] = model;
        }

        return options;
    }

    /// <summary>Makes <paramref name="provider"/> note its call, then fail with <paramref name="error"/>.</summary>
    private void Fails(RoutingHarness harness, string provider, GatewayError error, int? status = 500) =>
        harness.Upstreams.Get(provider).GetResponseAsyncCallback = (_, _) =>
        {
            _called.Enqueue(provider);
            throw new GatewayException(error, $"{provider} failed", upstreamStatus: status);
        };

    /// <summary>Makes <paramref name="provider"/> note its call, then answer.</summary>
    private void Answers(RoutingHarness harness, string provider)
    {
        var gateway = harness.Upstreams.Get(provider);
        gateway.GetResponseAsyncCallback = (request, _) =>
        {
            _called.Enqueue(provider);
            return Task.FromResult(gateway.Reply(request));
        };
    }

    [Fact]
    public async Task Walk_TargetsFail_TriesTheAliasThenEachFallbackInOrder()
    {
        using var harness = new RoutingHarness(Options(new()
        {
            ["main"] = new() { Targets = [Target("a")], Fallbacks = ["second", "third"] },
            ["second"] = new() { Targets = [Target("b")] },
            ["third"] = new() { Targets = [Target("c")] },
        }));
        Fails(harness, "a", GatewayError.UpstreamFailed);
        Fails(harness, "b", GatewayError.UpstreamTimeout, status: null);
        Answers(harness, "c");

        var (answer, target, attempts) = await harness.CompleteAsync("main").Within("main answered by its second fallback");

        Assert.Equal(["a", "b", "c"], _called);
        Assert.Equal(("c", "c-model", 3), (target.Provider, answer.Response.Model, attempts));
    }

    [Fact]
    public async Task Walk_TargetRejectsTheRequest_DoesNotFallBack()
    {
        using var harness = new RoutingHarness(Options(new()
        {
            ["main"] = new() { Targets = [Target("a")], Fallbacks = ["second"] },
            ["second"] = new() { Targets = [Target("b")] },
        }));
        Fails(harness, "a", GatewayError.InvalidRequest, status: 400);
        Answers(harness, "b");

        var error = await Assert.ThrowsAsync<GatewayException>(() => harness.CompleteAsync("main").Within("main rejected"));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(["a"], _called);
    }

    [Fact]
    public async Task Walk_PromptTooLongForTheContextWindow_SkipsTheFallbacksForTheLargerContextAlias()
    {
        using var harness = new RoutingHarness(Options(new()
        {
            ["small"] = new() { Targets = [Target("s1"), Target("s2")], Fallbacks = ["other"], ContextWindowFallbacks = ["large"] },
            ["other"] = new() { Targets = [Target("o")] },
            ["large"] = new() { Targets = [Target("l")] },
        }));
        Fails(harness, "s1", GatewayError.ContextLengthExceeded, status: 400);
        Answers(harness, "s2");
        Answers(harness, "o");
        Answers(harness, "l");

        var (_, target, attempts) = await harness.CompleteAsync("small").Within("small answered by its larger-context alias");

        // The alias's other target and its fallbacks would overflow too: the walk goes straight to the larger model.
        Assert.Equal(["s1", "l"], _called);
        Assert.Equal(("l", 2), (target.Provider, attempts));
    }

    [Fact]
    public async Task Walk_PromptTooLongAndNoLargerContextAlias_ThrowsTheContextError()
    {
        using var harness = new RoutingHarness(Options(new()
        {
            ["small"] = new() { Targets = [Target("s")], Fallbacks = ["other"] },
            ["other"] = new() { Targets = [Target("o")] },
        }));
        Fails(harness, "s", GatewayError.ContextLengthExceeded, status: 400);
        Answers(harness, "o");

        var error = await Assert.ThrowsAsync<GatewayException>(() => harness.CompleteAsync("small").Within("small failing"));

        Assert.Equal(GatewayError.ContextLengthExceeded, error.Error);
        Assert.Equal(["s"], _called);
    }

    [Fact]
    public async Task Walk_EveryTargetFails_NamesEachTargetAndWhyInTheError()
    {
        using var harness = new RoutingHarness(Options(new()
        {
            ["main"] = new() { Targets = [Target("a"), Target("b")], Fallbacks = ["backup"] },
            ["backup"] = new() { Targets = [Target("c")] },
        }));
        Fails(harness, "a", GatewayError.UpstreamFailed, status: 500);
        Fails(harness, "b", GatewayError.UpstreamTimeout, status: null);
        Fails(harness, "c", GatewayError.UpstreamAuthFailed, status: 401);

        var error = await Assert.ThrowsAsync<GatewayException>(() => harness.CompleteAsync("main").Within("main failing"));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal(
            "Every target of model 'main' failed. Tried: a/a-model: failed (HTTP 500); b/b-model: timed out; "
            + "c/c-model (fallback): rejected the gateway's credentials (HTTP 401).",
            error.Message);
    }

    [Fact]
    public async Task Walk_EveryTargetRateLimited_IsRateLimitedWithTheShortestRetryAfter()
    {
        using var harness = new RoutingHarness(Options(new()
        {
            ["main"] = new() { Targets = [Target("a")], Fallbacks = ["backup"] },
            ["backup"] = new() { Targets = [Target("b")] },
        }));
        harness.Upstreams.Get("a").GetResponseAsyncCallback = (_, _) =>
            throw new GatewayException(GatewayError.RateLimited, "a busy", retryAfter: TimeSpan.FromSeconds(30), upstreamStatus: 429);
        harness.Upstreams.Get("b").GetResponseAsyncCallback = (_, _) =>
            throw new GatewayException(GatewayError.RateLimited, "b busy", retryAfter: TimeSpan.FromSeconds(20), upstreamStatus: 429);

        var error = await Assert.ThrowsAsync<GatewayException>(() => harness.CompleteAsync("main").Within("main rate limited"));

        Assert.Equal(GatewayError.RateLimited, error.Error);
        Assert.Equal(TimeSpan.FromSeconds(20), error.RetryAfter);
        Assert.Equal("Every target of model 'main' is rate limited. Tried: a/a-model: rate limited; b/b-model (fallback): rate limited.", error.Message);
    }

    [Fact]
    public async Task Walk_UnknownAlias_IsModelNotFound()
    {
        using var harness = new RoutingHarness(Options(new() { ["main"] = new() { Targets = [Target("a")] } }));

        var error = await Assert.ThrowsAsync<GatewayException>(() => harness.CompleteAsync("nope").Within("nope refused"));

        Assert.Equal((GatewayError.ModelNotFound, "The model 'nope' does not exist."), (error.Error, error.Message));
    }

    [Fact]
    public async Task Walk_RoundRobin_StartsEachRequestAtTheNextTarget()
    {
        using var harness = new RoutingHarness(Options(new() { ["main"] = new() { Targets = [Target("a"), Target("b"), Target("c")] } }));

        List<string> answeredBy = [];
        for (var i = 0; i < 4; i++)
        {
            var (_, target, attempts) = await harness.CompleteAsync("main").Within($"request {i}");
            Assert.Equal(1, attempts);
            answeredBy.Add(target.Provider);
        }

        Assert.Equal(["a", "b", "c", "a"], answeredBy);
    }

    [Fact]
    public async Task Walk_RoundRobinFirstPickFails_FailsOverToTheTargetsAfterIt()
    {
        using var harness = new RoutingHarness(Options(new() { ["main"] = new() { Targets = [Target("a"), Target("b"), Target("c")] } }));
        await harness.CompleteAsync("main").Within("the first request, which a answers");
        _called.Clear();
        Fails(harness, "b", GatewayError.UpstreamFailed);
        Fails(harness, "c", GatewayError.UpstreamFailed);
        Answers(harness, "a");

        var (_, target, attempts) = await harness.CompleteAsync("main").Within("the second request");

        Assert.Equal(["b", "c", "a"], _called);
        Assert.Equal(("a", 3), (target.Provider, attempts));
    }

    [Fact]
    public async Task Walk_LeastBusyTargetHasACallInFlight_StartsTheNextRequestAtTheIdleOne()
    {
        using var harness = new RoutingHarness(Options(new() { ["main"] = new() { Targets = [Target("a"), Target("b")] } }, strategy: "LeastBusy"));
        var firstCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var provider in new[] { "a", "b" })
        {
            var gateway = harness.Upstreams.Get(provider);
            gateway.GetResponseAsyncCallback = async (request, _) =>
            {
                _called.Enqueue(provider);
                (_called.Count == 1 ? firstCalled : secondCalled).TrySetResult();
                await release.Task;
                return gateway.Reply(request);
            };
        }

        var first = harness.CompleteAsync("main");
        await firstCalled.Task.Within("the first request's call");
        var second = harness.CompleteAsync("main");
        await secondCalled.Task.Within("the second request's call, while the first is in flight");
        release.SetResult();
        var (_, firstTarget, _) = await first.Within("the first request");
        var (_, secondTarget, _) = await second.Within("the second request");

        Assert.Equal([firstTarget.Provider, secondTarget.Provider], _called);
        Assert.NotEqual(firstTarget.Provider, secondTarget.Provider);
    }
}
