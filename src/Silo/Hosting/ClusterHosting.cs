using System.Net;
using System.Net.Sockets;
using Gatehouse.Configuration;
using Gatehouse.Ledger;
using Gatehouse.Responses;
using Gatehouse.Silo.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace Gatehouse.Silo.Hosting;

/// <summary>Chooses the silo's clustering, grain storage and reminders from <c>Cluster:Kind</c> and <c>Storage:Kind</c>.</summary>
/// <remarks>
/// The kinds decide which services are registered, so they are read from the raw section here; everything else
/// (ports, addresses, connection strings) is taken from the validated <see cref="GatehouseOptions"/> when the host
/// starts. A kind that does not parse registers the defaults and is reported by the start-up validation.
/// </remarks>
internal static class ClusterHosting
{
    /// <summary>The ADO.NET provider invariant: the only database Gatehouse ships the schema for.</summary>
    public const string Invariant = "Npgsql";

    public static void AddClustering(this ISiloBuilder silo, IConfigurationSection section)
    {
        silo.Services.AddOptions<EndpointOptions>().Configure<IOptions<GatehouseOptions>>((endpoint, gatehouse) =>
        {
            var cluster = gatehouse.Value.Cluster;
            endpoint.AdvertisedIPAddress = ResolveAdvertised(cluster.AdvertisedAddress);
            endpoint.SiloPort = cluster.SiloPort;
            endpoint.GatewayPort = cluster.GatewayPort;
            if (!IPAddress.IsLoopback(endpoint.AdvertisedIPAddress))
            {
                // Reached from other machines (or containers) at the advertised address: listen on every interface.
                endpoint.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, cluster.SiloPort);
                endpoint.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, cluster.GatewayPort);
            }
        });
        silo.Services.AddOptions<Orleans.Configuration.ClusterOptions>().Configure<IOptions<GatehouseOptions>>((cluster, gatehouse) =>
        {
            cluster.ClusterId = gatehouse.Value.Cluster.ClusterId;
            cluster.ServiceId = gatehouse.Value.Cluster.ServiceId;
        });

        if (ReadKind(section, "Cluster:Kind", ClusterKind.Localhost) == ClusterKind.AdoNet)
        {
            silo.UseAdoNetClustering(adoNet => adoNet.Configure<IOptions<GatehouseOptions>>((options, gatehouse) =>
            {
                options.Invariant = Invariant;
                options.ConnectionString = SecretValue.Resolve(gatehouse.Value.Cluster.ConnectionString);
            }));
            silo.Configure<ClusterMembershipOptions>(MembershipSettings.Apply);
        }
        else
        {
            // What UseLocalhostClustering does, with the primary's port taken from the validated options.
            silo.UseDevelopmentClustering(membership => membership.Configure<IOptions<GatehouseOptions>>((primary, gatehouse) =>
                primary.PrimarySiloEndpoint = new IPEndPoint(IPAddress.Loopback, gatehouse.Value.Cluster.PrimarySiloPort ?? gatehouse.Value.Cluster.SiloPort)));
        }
    }

    public static void AddStorage(this ISiloBuilder silo, IConfigurationSection section)
    {
        if (ReadKind(section, "Storage:Kind", StorageKind.Memory) == StorageKind.PostgreSql)
        {
            silo.AddAdoNetGrainStorageAsDefault(ConfigurePostgreSql);
            silo.AddAdoNetGrainStorage(GatehouseStorageNames.Quota, ConfigurePostgreSql);
            silo.AddAdoNetGrainStorage(GatehouseStorageNames.Responses, ConfigurePostgreSql);
            silo.Services.AddHostedService<ExpiredResponseSweeper>();
            silo.UseAdoNetReminderService(reminders => reminders.Configure<IOptions<GatehouseOptions>>((options, gatehouse) =>
            {
                options.Invariant = Invariant;
                options.ConnectionString = StorageConnectionString(gatehouse.Value);
            }));
            // The usage ledger's batches go to gatehouse_usage (the grains library's default keeps them in memory).
            silo.Services.AddSingleton(sp => NpgsqlDataSource.Create(StorageConnectionString(sp.GetRequiredService<IOptions<GatehouseOptions>>().Value) ?? ""));
            silo.Services.AddSingleton<IUsageSink, PostgreSqlUsageSink>();
            silo.Services.AddSingleton<IUsageQuery, PostgreSqlUsageQuery>();
        }
        else
        {
            silo.AddMemoryGrainStorageAsDefault();
            // One silo's memory: a grant record survives the authority's deactivation, not the process (PostgreSQL does).
            silo.AddMemoryGrainStorage(GatehouseStorageNames.Quota);
            // Stored responses grow with traffic: this silo keeps at most Responses:MemoryLimitMb of them, oldest dropped first.
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Responses, (services, _) => new BoundedMemoryGrainStorage(
                services.GetRequiredService<Serializer>(),
                services.GetRequiredService<IOptions<GatehouseOptions>>().Value.Responses.MemoryLimitMb * 1024L * 1024L));
        }
    }

    public static string? StorageConnectionString(GatehouseOptions options) =>
        SecretValue.Resolve(options.Storage.ConnectionString ?? options.Cluster.ConnectionString);

    private static void ConfigurePostgreSql(OptionsBuilder<AdoNetGrainStorageOptions> storage) =>
        storage.Configure<IOptions<GatehouseOptions>, Serializer>((options, gatehouse, serializer) =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = StorageConnectionString(gatehouse.Value);
            // Orleans' own serializer, not the JSON default: stored types are named by their [Alias], not their .NET
            // names, and fields by [Id], so renaming a class or adding a field does not break stored state.
            options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        });

    private static IPAddress ResolveAdvertised(string address)
    {
        if (IPAddress.TryParse(address, out var ip))
        {
            return ip;
        }

        // A host name (a container's service name) is resolved once: Orleans advertises an address, not a name.
        var addresses = Dns.GetHostAddresses(address);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"Gatehouse:Cluster:AdvertisedAddress '{address}' resolved to no address.");
    }

    private static T ReadKind<T>(IConfigurationSection section, string key, T fallback)
        where T : struct, Enum =>
        Enum.TryParse<T>(section[key], ignoreCase: true, out var kind) && Enum.IsDefined(kind) ? kind : fallback;
}
