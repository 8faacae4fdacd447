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
        ["Gatehouse:Models:strict:Targets:0:Provider"] = "picky",
        ["Gatehouse:Models:strict:Targets:0:Model"] = "picky-model",
        ["Gatehouse:Models:strict:Fallbacks:0"] = "secondary",
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
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
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

    /// <summary>The grain factory of one silo: a stateless worker called through it activates on that silo.</summary>
    public IGrainFactory GrainFactoryOf(InProcessSiloHandle silo) =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IGrainFactory>();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
