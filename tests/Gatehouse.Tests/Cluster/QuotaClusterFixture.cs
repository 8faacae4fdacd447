using Gatehouse.RateLimiting.Leases;
using Orleans.Storage;
using Gatehouse.Tests.Support;
using System.Collections.Concurrent;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Gateway;
using Gatehouse.Grains;
using Gatehouse.Providers;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>
/// Three in-process silos sharing fake upstreams with rate limits and one grant-record store (standing in for the
/// cluster's database, it survives a silo kill): <c>metered</c> (120 RPM, a burst of 60, then 2 a second; at most 3
/// calls at once) behind alias <c>metered</c>, <c>scarce</c> (60 RPM, burst 1) behind alias <c>scarce</c> and
/// <c>stingy</c> (1 RPM) behind alias <c>stingy</c>, both with fallback alias <c>spare</c> (unlimited).
/// </summary>
/// <remarks>Real time, and a fresh cluster per test: nothing is warmed up.</remarks>
public sealed class QuotaCluster : IAsyncDisposable
{
    public const int UpstreamRpm = 120;
    public const int UpstreamBurst = 60;
    public const int UpstreamConcurrency = 3;

    public static readonly IReadOnlyDictionary<string, int> AppRpm = new Dictionary<string, int>
    {
        // Every admitted request counts, also one the upstream's bucket then refuses: room for a drill's retries.
        ["alpha"] = 240,
        ["bravo"] = 180,
        ["charlie"] = 300,
    };

    private QuotaCluster(InProcessTestCluster cluster, FakeUpstreams upstreams, SharedGrainStorage storage)
    {
        Cluster = cluster;
        Upstreams = upstreams;
        Storage = storage;
    }

    public SharedGrainStorage Storage { get; }

    public InProcessTestCluster Cluster { get; }

    public FakeUpstreams Upstreams { get; }

    public static Dictionary<string, string?> Config()
    {
        var config = new Dictionary<string, string?>
        {
            ["Gatehouse:Providers:metered:Kind"] = FakeChatGatewayFactory.FakeKind,
            ["Gatehouse:Providers:metered:RequestsPerMinute"] = UpstreamRpm.ToString(),
            ["Gatehouse:Providers:metered:Burst"] = UpstreamBurst.ToString(),
            ["Gatehouse:Providers:metered:MaxConcurrency"] = UpstreamConcurrency.ToString(),
            // A dead silo's concurrency slots count until its lease (2 s) plus the longest call (5 s) have passed.
            ["Gatehouse:Providers:metered:TimeoutSeconds"] = "5",
            ["Gatehouse:RateLimits:ConcurrencyLeaseSeconds"] = "2",
            ["Gatehouse:Providers:scarce:Kind"] = FakeChatGatewayFactory.FakeKind,
            ["Gatehouse:Providers:scarce:RequestsPerMinute"] = "60",
            ["Gatehouse:Providers:scarce:Burst"] = "1",
            // One a minute: a second call is refused however long the first took on a loaded machine.
            ["Gatehouse:Providers:stingy:Kind"] = FakeChatGatewayFactory.FakeKind,
            ["Gatehouse:Providers:stingy:RequestsPerMinute"] = "1",
            ["Gatehouse:Providers:spare:Kind"] = FakeChatGatewayFactory.FakeKind,
            ["Gatehouse:Models:metered:Targets:0:Provider"] = "metered",
            ["Gatehouse:Models:metered:Targets:0:Model"] = "metered-model",
            ["Gatehouse:Models:scarce:Targets:0:Provider"] = "scarce",
            ["Gatehouse:Models:scarce:Targets:0:Model"] = "scarce-model",
            ["Gatehouse:Models:scarce:Fallbacks:0"] = "spare",
            ["Gatehouse:Models:stingy:Targets:0:Provider"] = "stingy",
            ["Gatehouse:Models:stingy:Targets:0:Model"] = "stingy-model",
            ["Gatehouse:Models:stingy:Fallbacks:0"] = "spare",
            ["Gatehouse:Models:spare:Targets:0:Provider"] = "spare",
            ["Gatehouse:Models:spare:Targets:0:Model"] = "spare-model",
            ["Gatehouse:Apps:trickle:Keys:0"] = "gk-trickle",
            // One a minute: the second request is refused however long the first one took on a loaded machine, and may
            // retry once the first one's unit leaves the sliding minute (60 s after the end of its one-second slot).
            ["Gatehouse:Apps:trickle:RequestsPerMinute"] = "1",
            ["Gatehouse:Apps:trickle:Burst"] = "1",
            ["Gatehouse:Apps:trickle:Priority"] = "High",
            ["Gatehouse:Apps:free:Keys:0"] = "gk-free",
            ["Gatehouse:Providers:roomy:Kind"] = FakeChatGatewayFactory.FakeKind,
            ["Gatehouse:Providers:roomy:RequestsPerMinute"] = "600000",
            ["Gatehouse:Models:roomy:Targets:0:Provider"] = "roomy",
            ["Gatehouse:Models:roomy:Targets:0:Model"] = "roomy-model",
            ["Gatehouse:Apps:roomy:Keys:0"] = "gk-roomy",
            ["Gatehouse:Apps:roomy:RequestsPerMinute"] = "600000",
            ["Gatehouse:Apps:vip:Keys:0"] = "gk-vip",
            ["Gatehouse:Apps:vip:Priority"] = "High",
        };
        foreach (var (app, rpm) in AppRpm)
        {
            config[$"Gatehouse:Apps:{app}:Keys:0"] = "gk-" + app;
            config[$"Gatehouse:Apps:{app}:RequestsPerMinute"] = rpm.ToString();
        }

        return config;
    }

    public static async Task<QuotaCluster> StartAsync(int silos = 3)
    {
        var upstreams = new FakeUpstreams();
        var builder = new InProcessTestClusterBuilder((short)silos);
        var storage = new SharedGrainStorage();
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config()).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Quota, storage);
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
            // A killed silo is declared dead within a couple of seconds, so its grains (authorities included) move while the test runs.
            silo.Services.Configure<ClusterMembershipOptions>(membership =>
            {
                membership.ProbeTimeout = TimeSpan.FromMilliseconds(500);
                membership.NumMissedProbesLimit = 2;
                membership.NumVotesForDeathDeclaration = 1;
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new QuotaCluster(cluster, upstreams, storage);
    }

    public ChatPipeline PipelineOf(InProcessSiloHandle silo) => Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<ChatPipeline>();

    public QuotaLeaseHolder LeasesOf(InProcessSiloHandle silo) => Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<QuotaLeaseHolder>();

    public static AppIdentity App(string appId) => new(appId, null);

    public static ChatRequest Ask(string alias, string text) => new() { Model = alias, Messages = [ChatMessage.FromText(ChatRole.User, text)] };

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>Arrival times at a fake upstream, by the app named in the request text.</summary>
public sealed class ArrivalLog
{
    private readonly ConcurrentQueue<(DateTimeOffset At, string App)> _arrivals = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _firstFromSilo = new(StringComparer.Ordinal);

    /// <summary>Records a request whose text is <c>app@silo</c>.</summary>
    public void Record(string text)
    {
        var at = TimeProvider.System.GetUtcNow();
        var parts = text.Split('@');
        _arrivals.Enqueue((at, parts[0]));
        if (parts.Length > 1)
        {
            FirstFrom(parts[1]).TrySetResult();
        }
    }

    /// <summary>Completes when the first request sent through the named silo arrives.</summary>
    public Task ArrivedFrom(string siloName) => FirstFrom(siloName).Task;

    private TaskCompletionSource FirstFrom(string siloName) =>
        _firstFromSilo.GetOrAdd(siloName, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public IReadOnlyList<(DateTimeOffset At, string App)> All => [.. _arrivals];

    /// <summary>Arrivals per 1 s window (the windows of any limit of at least 60/min), for windows wholly inside [from, to).</summary>
    public Dictionary<long, int> PerSecond(DateTimeOffset from, DateTimeOffset to, string? app = null) => All
        .Where(a => app is null || a.App == app)
        .Where(a => a.At >= from && a.At < to)
        .GroupBy(a => a.At.UtcTicks / TimeSpan.TicksPerSecond)
        .ToDictionary(g => g.Key, g => g.Count());
}
