using System.Diagnostics;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Gateway;
using Gatehouse.Grains;
using Gatehouse.Providers;
using Gatehouse.Tests.Fakes;
using Gatehouse.Tests.Support;
using Gatehouse.Tracing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Tracing;

/// <summary>
/// The span tree of one request on two in-process silos with Orleans activity propagation, captured by OpenTelemetry's
/// in-memory exporter: alias <c>primary</c>'s only target fails, its fallback <c>secondary</c> answers.
/// </summary>
public sealed class TracingClusterTests : IAsyncLifetime
{
    private static readonly ActivitySource TestSource = new("Gatehouse.Tests.Tracing");

    private static readonly Dictionary<string, string?> Config = new()
    {
        ["Gatehouse:Providers:broken:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:broken:CircuitBreaker:FailureThreshold"] = "1000",
        ["Gatehouse:Providers:backup:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:primary:Targets:0:Provider"] = "broken",
        ["Gatehouse:Models:primary:Targets:0:Model"] = "broken-model",
        ["Gatehouse:Models:primary:Fallbacks:0"] = "secondary",
        ["Gatehouse:Models:secondary:Targets:0:Provider"] = "backup",
        ["Gatehouse:Models:secondary:Targets:0:Model"] = "backup-model",
        ["Gatehouse:Apps:tester:Keys:0"] = "gk-tracing-FAKE-key",
    };

    private readonly List<Activity> _spans = [];
    private readonly FakeUpstreams _upstreams = new();
    private TracerProvider _tracing = null!;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(TestSource.Name, GatehouseActivities.SourceName, ActivitySources.ApplicationGrainActivitySourceName)
            .AddInMemoryExporter(_spans)
            .Build()!;
        var builder = new InProcessTestClusterBuilder(2);
        var upstreams = _upstreams;
        var storage = new SharedGrainStorage();
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Quota, storage);
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
            // As the silo host does.
            silo.AddActivityPropagation();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        _tracing.Dispose();
    }

    [Fact]
    public async Task Complete_FirstTargetFailsFallbackAnswers_OneRequestSpanWithAFailedAndAnAnsweringAttemptBelowIt()
    {
        _upstreams.Get("broken").FailWith(GatewayError.UpstreamFailed, 500);
        var pipeline = _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<ChatPipeline>();
        var request = new ChatRequest { Model = "primary", Messages = [ChatMessage.FromText(ChatRole.User, "traced")], MaxTokens = 20 };

        ActivityTraceId traceId;
        using (var root = TestSource.StartActivity("test request"))
        {
            traceId = root!.TraceId;
            await pipeline.CompleteAsync(new AppIdentity("tester", null), request, new CallOptions { RequestId = "req-traced" }, CancellationToken.None);
        }

        _tracing.ForceFlush();
        Activity[] trace;
        lock (_spans)
        {
            trace = [.. _spans.Where(s => s.TraceId == traceId)];
        }

        var byId = trace.ToDictionary(s => s.SpanId);
        var gatehouse = trace.Where(s => s.Source.Name == GatehouseActivities.SourceName).ToArray();
        var requestSpan = Assert.Single(gatehouse, s => s.Kind == ActivityKind.Internal);
        Assert.Equal("chat primary", requestSpan.DisplayName);
        Assert.Equal(("tester", "req-traced", "primary", "backup", "backup-model", 2), (Tag(requestSpan, "gatehouse.app"), Tag(requestSpan, "gatehouse.request_id"),
            Tag(requestSpan, "gen_ai.request.model"), Tag(requestSpan, "gen_ai.provider.name"), Tag(requestSpan, "gen_ai.response.model"), Tag(requestSpan, "gatehouse.attempts")));
        Assert.Equal((10, 3), (Tag(requestSpan, "gen_ai.usage.input_tokens"), Tag(requestSpan, "gen_ai.usage.output_tokens")));

        var attempts = gatehouse.Where(s => s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToArray();
        Assert.Equal(2, attempts.Length);
        var (failed, answered) = (attempts[0], attempts[1]);
        Assert.Equal(("chat broken-model", "broken", ActivityStatusCode.Error, "UpstreamFailed"),
            (failed.DisplayName, Tag(failed, "gen_ai.provider.name"), failed.Status, Tag(failed, "error.type")));
        Assert.Equal(("chat backup-model", "backup", ActivityStatusCode.Unset, 10, 3),
            (answered.DisplayName, Tag(answered, "gen_ai.provider.name"), answered.Status, Tag(answered, "gen_ai.usage.input_tokens"), Tag(answered, "gen_ai.usage.output_tokens")));
        Assert.Equal((1, 2), (Tag(failed, "gatehouse.attempt"), Tag(answered, "gatehouse.attempt")));

        // Both attempts hang below the request span, through the router grain call Orleans traced between them.
        foreach (var attempt in attempts)
        {
            var ancestors = Ancestors(attempt, byId).ToList();
            Assert.Contains(requestSpan, ancestors);
            Assert.Contains(ancestors.TakeWhile(a => a != requestSpan), a => a.Source.Name == ActivitySources.ApplicationGrainActivitySourceName && a.DisplayName.Contains("RouterGrain"));
        }
    }

    [Fact]
    public async Task Stream_TheAnsweringAttemptsSpanEndsWithTheStream_CarryingItsTokens()
    {
        _upstreams.Get("broken").FailWith(GatewayError.UpstreamFailed, 500);
        var pipeline = _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<ChatPipeline>();
        var request = new ChatRequest { Model = "primary", Messages = [ChatMessage.FromText(ChatRole.User, "traced stream")], MaxTokens = 20, IncludeUsage = true };

        ActivityTraceId traceId;
        Activity[] AttemptsEnded()
        {
            _tracing.ForceFlush();
            lock (_spans)
            {
                return [.. _spans.Where(s => s.TraceId == traceId && s.Source.Name == GatehouseActivities.SourceName && s.Kind == ActivityKind.Client)];
            }
        }

        using (var root = TestSource.StartActivity("test stream"))
        {
            traceId = root!.TraceId;
            await using var chunks = pipeline.StreamAsync(new AppIdentity("tester", null), request, CallOptions.Default, CancellationToken.None).GetAsyncEnumerator();
            Assert.True(await chunks.MoveNextAsync());
            // The failed attempt is over; the answering one lasts as long as its stream.
            Assert.Equal(["broken"], AttemptsEnded().Select(s => Tag(s, "gen_ai.provider.name")));
            while (await chunks.MoveNextAsync())
            {
            }
        }

        var answered = Assert.Single(AttemptsEnded(), s => (string?)Tag(s, "gen_ai.provider.name") == "backup");
        Assert.Equal(("backup-model", ActivityStatusCode.Unset, 10, 3),
            (Tag(answered, "gen_ai.response.model"), answered.Status, Tag(answered, "gen_ai.usage.input_tokens"), Tag(answered, "gen_ai.usage.output_tokens")));
    }

    private static object? Tag(Activity span, string name) => span.TagObjects.FirstOrDefault(t => t.Key == name).Value;

    private static IEnumerable<Activity> Ancestors(Activity span, Dictionary<ActivitySpanId, Activity> byId)
    {
        var current = span;
        while (current.ParentSpanId != default && byId.TryGetValue(current.ParentSpanId, out var parent))
        {
            yield return parent;
            current = parent;
        }
    }
}
