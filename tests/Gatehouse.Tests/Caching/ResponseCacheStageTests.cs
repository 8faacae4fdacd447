using Gatehouse.Apps;
using Gatehouse.Caching;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Routing;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Caching;

/// <summary>The pipeline's cache decision: which requests go to a cache grain, and under which key.</summary>
public sealed class ResponseCacheStageTests
{
    private static readonly AppIdentity AppA = new("a", null);
    private static readonly AppIdentity AppB = new("b", null);
    private static readonly AppIdentity Team1 = new("team1", null) { ConfiguredCacheNamespace = "team" };
    private static readonly AppIdentity Team2 = new("team2", null) { ConfiguredCacheNamespace = "team" };

    private readonly GatehouseOptions _options = new();

    // The decision needs no grain and no store: the factory, the store and the next stage are never touched.
    private ResponseCacheStage Pipeline() => new(new RouterStage(null!), null!, new TestOptionsMonitor<GatehouseOptions>(_options), null!, null!);

    private static ChatRequest Request(double? temperature = null, long? seed = null) => new()
    {
        Model = "m",
        Messages = [ChatMessage.FromText(ChatRole.User, "hi")],
        Temperature = temperature,
        Seed = seed,
    };

    [Theory]
    [InlineData(0.0, null, true)]
    [InlineData(0.7, 1L, true)]
    [InlineData(null, 1L, true)]
    [InlineData(null, null, false)]
    [InlineData(0.7, null, false)]
    public void CacheKey_ByDefault_OnlyDeterministicRequestsAreCached(double? temperature, long? seed, bool cached)
    {
        Assert.Equal(cached, Pipeline().CacheKey(AppA, Request(temperature, seed), CallOptions.Default) is not null);
    }

    [Fact]
    public void CacheKey_AppOrRequestOptsIn_NonDeterministicRequestIsCached()
    {
        var pipeline = Pipeline();

        Assert.NotNull(pipeline.CacheKey(AppA with { CacheAllRequests = true }, Request(0.7), CallOptions.Default));
        Assert.NotNull(pipeline.CacheKey(AppA, Request(0.7), new CallOptions { ForceCache = true }));
    }

    [Fact]
    public void CacheKey_CacheDisabled_NothingIsCached()
    {
        _options.Cache.Enabled = false;

        Assert.Null(Pipeline().CacheKey(AppA, Request(0), new CallOptions { ForceCache = true }));
    }

    [Fact]
    public void CacheKey_CacheControlDirectives_StillGoThroughTheCacheGrainUnderTheSameKey()
    {
        var pipeline = Pipeline();
        var key = pipeline.CacheKey(AppA, Request(0), CallOptions.Default);

        Assert.Equal(key, pipeline.CacheKey(AppA, Request(0), new CallOptions { NoCacheRead = true, NoCacheStore = true }));
    }

    [Fact]
    public void CacheKey_OtherApp_DiffersUnlessTheNamespaceIsShared()
    {
        var pipeline = Pipeline();

        Assert.NotEqual(pipeline.CacheKey(AppA, Request(0), CallOptions.Default), pipeline.CacheKey(AppB, Request(0), CallOptions.Default));
        Assert.Equal(pipeline.CacheKey(Team1, Request(0), CallOptions.Default), pipeline.CacheKey(Team2, Request(0), CallOptions.Default));
    }
}
