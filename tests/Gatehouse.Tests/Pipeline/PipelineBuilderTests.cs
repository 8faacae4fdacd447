using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Caching;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.Pipeline;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tests.Support;
using Gatehouse.Tracing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Pipeline;

/// <summary>
/// The stages before the grain hop as the builder composes them: in the order added, each around the next; a stage may
/// answer without the ones after it; a stage added by a test takes its place in the flow without any other changing.
/// </summary>
public sealed class PipelineBuilderTests : IDisposable
{
    private static readonly AppIdentity App = new("app", null);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly GatehouseOptions _options = new();
    private readonly ServiceProvider _meterServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly GatehouseMetrics _metrics;
    private readonly ResponseStore _store;
    private readonly RecordingLedger _ledger = new();
    private readonly FakeRouterStage _router = new();
    private readonly List<string> _flow = [];

    public PipelineBuilderTests()
    {
        var monitor = new TestOptionsMonitor<GatehouseOptions>(_options);
        _metrics = new GatehouseMetrics(_meterServices.GetRequiredService<IMeterFactory>(), new UpstreamStates(Options.Create(_options), _time), _time);
        _store = new ResponseStore(monitor, _time);
        Meter = new UsageMeter(_ledger, new UsagePricer(monitor), _metrics, _time);
        Monitor = monitor;
    }

    private TestOptionsMonitor<GatehouseOptions> Monitor { get; }

    private UsageMeter Meter { get; }

    public void Dispose()
    {
        _metrics.Dispose();
        _meterServices.Dispose();
    }

    private static ChatRequest Ask(double? temperature) => new()
    {
        Model = "alias",
        Messages = [ChatMessage.FromText(ChatRole.User, "hi")],
        Temperature = temperature,
        IncludeUsage = true,
    };

    private PipelineRequest Start(ChatRequest request) =>
        new(App, request, CallOptions.Default, new RequestDeadlines(Options.Create(_options), _time).Start(CallOptions.Default),
            new RequestEstimate(new TokenEstimator(_options.RateLimits), request, null));

    private IPipelineStage Record(IPipelineStage inner, string name) => new RecordingStage(inner, name, _flow);

    // The cache stage's grain factory is never touched: a near hit needs no shard, a bypass goes to the next stage.
    private ResponseCacheStage Cache(IPipelineStage inner) => new(inner, null!, Monitor, _store, Meter);

    /// <summary>Puts an answer for <paramref name="request"/> in this silo's store, as a shard's answer would have been kept.</summary>
    private void KeepNear(ChatRequest request)
    {
        var key = Cache(_router).CacheKey(App, request, CallOptions.Default)!;
        var route = new RouteInfo { Provider = "p", Model = "upstream-model" };
        _store.Put(key, new StoredAnswer(
            [
                new ChatChunk { Id = "kept", Model = "upstream-model", Role = ChatRole.Assistant, TextDelta = "kept", Route = route },
                new ChatChunk { Id = "kept", Model = "upstream-model", FinishReason = FinishReason.Stop },
                new ChatChunk { Id = "kept", Model = "upstream-model", Usage = new Usage { PromptTokens = 3, CompletionTokens = 1 } },
            ],
            _time.GetUtcNow().AddMinutes(5)));
    }

    [Fact]
    public async Task GetResponse_ThreeStagesAdded_RunInTheOrderAddedEachAroundTheNext()
    {
        var pipeline = new PipelineBuilder()
            .Use(inner => Record(inner, "first"))
            .Use(inner => Record(inner, "second"))
            .Use(inner => Record(inner, "third"))
            .Build(_router);

        await pipeline.GetResponseAsync(Start(Ask(0.7)));

        Assert.Equal(["first >", "second >", "third >", "third <", "second <", "first <"], _flow);
        Assert.Equal(1, _router.Calls);
    }

    [Fact]
    public async Task GetStreamingResponse_ThreeStagesAdded_EveryChunkPassesThemInTheOrderAdded()
    {
        var pipeline = new PipelineBuilder()
            .Use(inner => Record(inner, "first"))
            .Use(inner => Record(inner, "second"))
            .Use(inner => Record(inner, "third"))
            .Build(_router);

        var chunks = await pipeline.GetStreamingResponseAsync(Start(Ask(0.7))).ToListAsync();

        Assert.Equal(["first >", "second >", "third >", "third <", "second <", "first <"], _flow);
        Assert.Equal(["routed", null, null], chunks.Select(c => c.TextDelta));
        Assert.Equal(1, _router.Calls);
    }

    [Fact]
    public async Task GetResponse_CacheHoldsTheAnswer_NeverReachesTheRouter()
    {
        var request = Ask(0);
        KeepNear(request);
        var pipeline = new PipelineBuilder().Use(Cache).Build(_router);

        var response = await pipeline.GetResponseAsync(Start(request));
        var streamed = await pipeline.GetStreamingResponseAsync(Start(request)).ToListAsync();

        Assert.Equal(0, _router.Calls);
        Assert.Equal(("kept", CacheStatus.Hit), (((ChatResponse)response.Response).Message.Text, response.Route!.Cache));
        Assert.Equal(CacheStatus.Hit, streamed[0].Route!.Cache);
        Assert.Equal([CacheStatus.Hit, CacheStatus.Hit], _ledger.Records.Select(r => r.Cache));
    }

    [Fact]
    public async Task GetResponse_NotCacheable_TheCacheStagePassesItToTheRouterMarkedBypass()
    {
        var pipeline = new PipelineBuilder().Use(Cache).Build(_router);

        var response = await pipeline.GetResponseAsync(Start(Ask(0.7)));

        Assert.Equal(1, _router.Calls);
        Assert.Equal(CacheStatus.Bypass, response.Route!.Cache);
        Assert.Empty(_ledger.Records);
    }

    [Fact]
    public async Task GetResponse_StageAddedBetweenTwoRealOnes_SeesWhatTheyPassWithoutEitherChanging()
    {
        var cacheable = Ask(0);
        KeepNear(cacheable);
        var pipeline = new PipelineBuilder()
            .Use(inner => new TracingStage(inner, _metrics))
            .Use(inner => Record(inner, "added"))
            .Use(Cache)
            .Build(_router);

        var hit = await pipeline.GetResponseAsync(Start(cacheable));
        var bypass = await pipeline.GetResponseAsync(Start(Ask(0.7)));

        // The stage below the added one marked each answer; the router was reached only by the request it could not answer.
        Assert.Equal(["added >", "added < hit", "added >", "added < bypass"], _flow);
        Assert.Equal((CacheStatus.Hit, CacheStatus.Bypass), (hit.Route!.Cache, bypass.Route!.Cache));
        Assert.Equal(1, _router.Calls);
        Assert.Same(pipeline, pipeline.GetService(typeof(TracingStage)));
        Assert.IsType<RecordingStage>(pipeline.GetService(typeof(RecordingStage)));
        Assert.Same(_router, pipeline.GetService(typeof(FakeRouterStage)));
    }

    /// <summary>Writes down when a request passes it on the way in, and (with its cache result) on the way out.</summary>
    private sealed class RecordingStage(IPipelineStage inner, string name, List<string> flow) : DelegatingPipelineStage(inner)
    {
        public override async ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
        {
            flow.Add($"{name} >");
            var response = await InnerStage.GetResponseAsync(request, cancellationToken);
            flow.Add($"{name} <{(response.Route?.Cache is { } cache ? " " + cache : "")}");
            return response;
        }

        public override async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            flow.Add($"{name} >");
            await foreach (var chunk in InnerStage.GetStreamingResponseAsync(request, cancellationToken).WithCancellation(cancellationToken))
            {
                yield return chunk;
            }

            flow.Add($"{name} <");
        }
    }

    /// <summary>The router's place in the pipeline: counts the calls that reach it and answers each at once.</summary>
    private sealed class FakeRouterStage : IPipelineStage
    {
        private static readonly RouteInfo Route = new() { Provider = "p", Model = "upstream-model" };

        public int Calls { get; private set; }

        public ValueTask<PipelineResponse> GetResponseAsync(PipelineRequest request, CancellationToken cancellationToken = default)
        {
            Calls++;
            return ValueTask.FromResult(new PipelineResponse(new ChatResponse
            {
                Id = "routed",
                Model = "upstream-model",
                Message = ChatMessage.FromText(ChatRole.Assistant, "routed"),
                Usage = new Usage { PromptTokens = 3, CompletionTokens = 1 },
                Route = Route,
            }));
        }

        public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(PipelineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Calls++;
            await Task.CompletedTask;
            yield return new ChatChunk { Id = "routed", Model = "upstream-model", Role = ChatRole.Assistant, TextDelta = "routed", Route = Route };
            yield return new ChatChunk { Id = "routed", Model = "upstream-model", FinishReason = FinishReason.Stop };
            yield return new ChatChunk { Id = "routed", Model = "upstream-model", Usage = new Usage { PromptTokens = 3, CompletionTokens = 1 } };
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>A usage ledger that keeps what it is given.</summary>
    private sealed class RecordingLedger : IUsageLedger
    {
        public List<UsageRecord> Records { get; } = [];

        public long Dropped => 0;

        public long Written => Records.Count;

        public int Pending => 0;

        public ValueTask RecordAsync(UsageRecord record)
        {
            Records.Add(record);
            return ValueTask.CompletedTask;
        }
    }
}
