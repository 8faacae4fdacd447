using Orleans.Storage;
using Gatehouse.Tests.Support;
using Gatehouse.Providers;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>
/// Two in-process silos whose grain-facing time (circuit breaks, probe leases, the reporters' flush timers, the
/// router's waits) is one shared <see cref="TrackingFakeTimeProvider"/>; Orleans' own background work stays on real time.
/// </summary>
/// <remarks>With fake time the reporters never flush on their own: tests flush them explicitly to propagate state.</remarks>
public sealed class FakeTimeClusterFixture : IAsyncLifetime
{
    public const string AppKey = "gk-fake-time";

    private static readonly Dictionary<string, string?> Config = new()
    {
        ["Gatehouse:Providers:ailing:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:ailing:CircuitBreaker:FailureThreshold"] = "2",
        ["Gatehouse:Providers:ailing:CircuitBreaker:BreakSeconds"] = "10",
        ["Gatehouse:Providers:sleepy:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:sleepy:CircuitBreaker:FailureThreshold"] = "1",
        ["Gatehouse:Providers:sleepy:CircuitBreaker:BreakSeconds"] = "5",
        ["Gatehouse:Providers:standby:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:ailing-chain:Targets:0:Provider"] = "ailing",
        ["Gatehouse:Models:ailing-chain:Targets:0:Model"] = "ailing-model",
        ["Gatehouse:Models:ailing-chain:Fallbacks:0"] = "standby",
        ["Gatehouse:Models:standby:Targets:0:Provider"] = "standby",
        ["Gatehouse:Models:standby:Targets:0:Model"] = "standby-model",
        ["Gatehouse:Models:sleepy-solo:Targets:0:Provider"] = "sleepy",
        ["Gatehouse:Models:sleepy-solo:Targets:0:Model"] = "sleepy-model",
        ["Gatehouse:Apps:tester:Keys:0"] = AppKey,
    };

    public FakeUpstreams Upstreams { get; } = new();

    public TrackingFakeTimeProvider Time { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var upstreams = Upstreams;
        var time = Time;
        var storage = new SharedGrainStorage();
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(time);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Quota, storage);
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        // A failed test may leave a request waiting on the fake clock; silos would wait for it on shutdown.
        Time.Advance(TimeSpan.FromHours(1));
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public T ServiceOf<T>(InProcessSiloHandle silo)
        where T : notnull =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<T>();

    public IGrainFactory GrainFactoryOf(InProcessSiloHandle silo) => ServiceOf<IGrainFactory>(silo);
}

/// <summary>A <see cref="FakeTimeProvider"/> that lets a test await the creation of a timer with a given due time (a phase barrier).</summary>
public sealed class TrackingFakeTimeProvider : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<(TimeSpan DueTime, TaskCompletionSource Created)> _awaited = [];

    /// <summary>Completes when a timer due after exactly <paramref name="dueTime"/> is created (from now on).</summary>
    public Task TimerCreated(TimeSpan dueTime)
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _awaited.Add((dueTime, created));
        }

        return created.Task;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_lock)
        {
            foreach (var awaited in _awaited.Where(a => a.DueTime == dueTime).ToList())
            {
                awaited.Created.TrySetResult();
                _awaited.Remove(awaited);
            }
        }

        return timer;
    }
}

[CollectionDefinition(Name)]
public sealed class FakeTimeClusterCollection : ICollectionFixture<FakeTimeClusterFixture>
{
    public const string Name = "fake-time-cluster";
}
