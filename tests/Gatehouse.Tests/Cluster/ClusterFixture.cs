using Orleans.Storage;
using Gatehouse.Tests.Support;
using Gatehouse.Providers;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>Two in-process silos serving Gatehouse's grains, with fake upstreams shared by both silos.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string AppKey = "gk-cluster-test";
    public const string RestrictedAppKey = "gk-cluster-restricted";

    public static readonly Dictionary<string, string?> Config = new()
    {
        ["Gatehouse:Providers:alpha:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:beta:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:broken:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:backup:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:picky:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:balanced:Targets:0:Provider"] = "alpha",
        ["Gatehouse:Models:balanced:Targets:0:Model"] = "alpha-model",
        ["Gatehouse:Models:balanced:Targets:1:Provider"] = "beta",
        ["Gatehouse:Models:balanced:Targets:1:Model"] = "beta-model",
        ["Gatehouse:Models:primary:Targets:0:Provider"] = "broken",
        ["Gatehouse:Models:primary:Targets:0:Model"] = "broken-model",
        ["Gatehouse:Models:primary:Fallbacks:0"] = "secondary",
        ["Gatehouse:Models:secondary:Targets:0:Provider"] = "backup",
        ["Gatehouse:Models:secondary:Targets:0:Model"] = "backup-model",
        // Used by one test only, so its ledger records are that test's.
        ["Gatehouse:Models:breaks-midway:Targets:0:Provider"] = "broken",
        ["Gatehouse:Models:breaks-midway:Targets:0:Model"] = "broken-model",
        ["Gatehouse:Models:strict:Targets:0:Provider"] = "picky",
        ["Gatehouse:Models:strict:Targets:0:Model"] = "picky-model",
        ["Gatehouse:Models:strict:Fallbacks:0"] = "secondary",
        // Shared by tests that fail these upstreams on purpose: their circuits must not open and leak into the next test.
        ["Gatehouse:Providers:broken:CircuitBreaker:FailureThreshold"] = "1000",
        ["Gatehouse:Providers:backup:CircuitBreaker:FailureThreshold"] = "1000",
        ["Gatehouse:Providers:picky:CircuitBreaker:FailureThreshold"] = "1000",
        // Resilience: a circuit that opens after 2 failures and stays open for the rest of the run.
        ["Gatehouse:Providers:fragile:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:fragile:CircuitBreaker:FailureThreshold"] = "2",
        ["Gatehouse:Providers:fragile:CircuitBreaker:BreakSeconds"] = "3600",
        ["Gatehouse:Models:guarded:Targets:0:Provider"] = "fragile",
        ["Gatehouse:Models:guarded:Targets:0:Model"] = "fragile-model",
        ["Gatehouse:Models:guarded:Fallbacks:0"] = "secondary",
        // Resilience: one retry on the same target, no backoff delay to wait for.
        ["Gatehouse:Providers:retrier:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:retrier:Retries"] = "1",
        ["Gatehouse:Providers:retrier:RetryDelayMs"] = "0",
        ["Gatehouse:Providers:retrier:CircuitBreaker:FailureThreshold"] = "1000",
        ["Gatehouse:Models:retried:Targets:0:Provider"] = "retrier",
        ["Gatehouse:Models:retried:Targets:0:Model"] = "retrier-model",
        ["Gatehouse:Models:retried:Fallbacks:0"] = "secondary",
        // Resilience: a small context window with a larger alias behind it.
        ["Gatehouse:Providers:tiny:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:roomy:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:tiny-ctx:Targets:0:Provider"] = "tiny",
        ["Gatehouse:Models:tiny-ctx:Targets:0:Model"] = "tiny-model",
        ["Gatehouse:Models:tiny-ctx:Fallbacks:0"] = "secondary",
        ["Gatehouse:Models:tiny-ctx:ContextWindowFallbacks:0"] = "roomy-ctx",
        ["Gatehouse:Models:roomy-ctx:Targets:0:Provider"] = "roomy",
        ["Gatehouse:Models:roomy-ctx:Targets:0:Model"] = "roomy-model",
        // Hedging: each alias is used by one test only, so its round robin starts at "sluggish".
        ["Gatehouse:Providers:sluggish:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:nimble:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:hedged:HedgeAfterMs"] = "50",
        ["Gatehouse:Models:hedged:Targets:0:Provider"] = "sluggish",
        ["Gatehouse:Models:hedged:Targets:0:Model"] = "sluggish-model",
        ["Gatehouse:Models:hedged:Targets:1:Provider"] = "nimble",
        ["Gatehouse:Models:hedged:Targets:1:Model"] = "nimble-model",
        ["Gatehouse:Models:hedged-stream:HedgeAfterMs"] = "50",
        ["Gatehouse:Models:hedged-stream:Targets:0:Provider"] = "sluggish",
        ["Gatehouse:Models:hedged-stream:Targets:0:Model"] = "sluggish-model",
        ["Gatehouse:Models:hedged-stream:Targets:1:Provider"] = "nimble",
        ["Gatehouse:Models:hedged-stream:Targets:1:Model"] = "nimble-model",
        ["Gatehouse:Models:hedged-stream-late:HedgeAfterMs"] = "50",
        ["Gatehouse:Models:hedged-stream-late:Targets:0:Provider"] = "sluggish",
        ["Gatehouse:Models:hedged-stream-late:Targets:0:Model"] = "sluggish-model",
        ["Gatehouse:Models:hedged-stream-late:Targets:1:Provider"] = "nimble",
        ["Gatehouse:Models:hedged-stream-late:Targets:1:Model"] = "nimble-model",
        ["Gatehouse:Models:hedged-quick:HedgeAfterMs"] = "1000",
        ["Gatehouse:Models:hedged-quick:Targets:0:Provider"] = "sluggish",
        ["Gatehouse:Models:hedged-quick:Targets:0:Model"] = "sluggish-model",
        ["Gatehouse:Models:hedged-quick:Targets:1:Provider"] = "nimble",
        ["Gatehouse:Models:hedged-quick:Targets:1:Model"] = "nimble-model",
        ["Gatehouse:Apps:tester:Keys:0"] = AppKey,
        ["Gatehouse:Apps:restricted:Keys:0"] = RestrictedAppKey,
        ["Gatehouse:Apps:restricted:Models:0"] = "secondary",
    };

    public FakeUpstreams Upstreams { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var upstreams = Upstreams;
        var storage = new SharedGrainStorage();
        builder.ConfigureSilo((siloOptions, silo) =>
        {
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
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>A service of one silo's container (its health reporter, its upstream states).</summary>
    public T ServiceOf<T>(InProcessSiloHandle silo)
        where T : notnull =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<T>();

    /// <summary>The grain factory of one silo: a stateless worker called through it activates on that silo.</summary>
    public IGrainFactory GrainFactoryOf(InProcessSiloHandle silo) =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IGrainFactory>();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
