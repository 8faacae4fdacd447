using Gatehouse.Apps;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Apps;

/// <summary>
/// Two in-process silos with the app grains on one shared grain store, each with its <see cref="AppSnapshotSync"/>,
/// and one config-file app <c>seeded</c> (key <see cref="SeededKey"/>, 50 requests a minute). A fresh cluster per test.
/// </summary>
/// <remarks>Tests refresh the snapshots themselves (<see cref="RefreshAllAsync"/>) instead of waiting for the poll.</remarks>
public sealed class AppCatalogCluster : IAsyncDisposable
{
    public const string SeededKey = "gk-seeded-FAKE-key";

    private AppCatalogCluster(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }

    public static async Task<AppCatalogCluster> StartAsync(SharedGrainStorage? storage = null)
    {
        storage ??= new SharedGrainStorage();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Gatehouse:Providers:sim:Kind"] = "Simulated",
                ["Gatehouse:Models:chat:Targets:0:Provider"] = "sim",
                ["Gatehouse:Models:chat:Targets:0:Model"] = "m",
                ["Gatehouse:Apps:seeded:Keys:0"] = SeededKey,
                ["Gatehouse:Apps:seeded:RequestsPerMinute"] = "50",
                ["Gatehouse:Apps:seeded:Models:0"] = "chat",
            }).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddAppSnapshotSync();
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Quota, storage);
            // The default storage, which [PersistentState] without a name resolves unkeyed.
            silo.Services.AddSingleton<IGrainStorage>(storage);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new AppCatalogCluster(cluster);
    }

    public IServiceProvider ServicesOf(int silo) => Cluster.GetSiloServiceProvider(Cluster.Silos[silo].SiloAddress);

    public AppRegistry RegistryOf(int silo) => ServicesOf(silo).GetRequiredService<AppRegistry>();

    public IGrainFactory Grains => ServicesOf(0).GetRequiredService<IGrainFactory>();

    public async Task RefreshAllAsync()
    {
        for (var i = 0; i < Cluster.Silos.Count; i++)
        {
            await ServicesOf(i).GetRequiredService<AppSnapshotSync>().RefreshAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
