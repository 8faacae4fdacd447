using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Gatehouse.Client;

/// <summary>Registers the Gatehouse grain client and its <see cref="IChatClient"/>.</summary>
public static class GatehouseClientServiceCollectionExtensions
{
    /// <summary>Adds an Orleans client connected to a Gatehouse cluster and registers <see cref="IChatClient"/> as a singleton <see cref="GatehouseChatClient"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; it runs when the options are first needed, after any configuration binding.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>
    /// The Orleans client connects from a hosted service when the host starts, so the application must
    /// run inside a Generic Host (or a Web host). Options are validated on start; Orleans' own client
    /// options can still be changed afterwards through <c>services.Configure&lt;...&gt;</c>.
    /// Call it once per service collection: a process joins one Gatehouse cluster.
    /// </remarks>
    public static IServiceCollection AddGatehouseClient(this IServiceCollection services, Action<GatehouseClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<GatehouseClientOptions>().Configure(configure);
        return services.AddGatehouseClientCore();
    }

    /// <summary>Adds the Gatehouse client, binding <see cref="GatehouseClientOptions"/> from the <c>Gatehouse:Client</c> configuration section, then applying <paramref name="configure"/>.</summary>
    /// <param name="builder">The host application builder.</param>
    /// <param name="configure">Optional code that sets or overrides options after configuration binding.</param>
    /// <returns>The builder.</returns>
    /// <remarks>See <see cref="AddGatehouseClient(IServiceCollection, Action{GatehouseClientOptions})"/>.</remarks>
    public static IHostApplicationBuilder AddGatehouseClient(this IHostApplicationBuilder builder, Action<GatehouseClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var options = builder.Services.AddOptions<GatehouseClientOptions>()
            .Bind(builder.Configuration.GetSection(GatehouseClientConstants.ConfigurationSectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddGatehouseClientCore();
        return builder;
    }

    private static IServiceCollection AddGatehouseClientCore(this IServiceCollection services)
    {
        services.AddOptions<GatehouseClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatehouseClientOptions>, GatehouseClientOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatehouseClientOptions>, GatehouseClientOptionsCrossFieldValidator>());

        // The cluster settings are read from IOptions when the client starts, not captured here, so
        // options bound from configuration or set by later Configure calls take effect. Localhost
        // clustering is static clustering with one 127.0.0.1 gateway, which is what
        // UseLocalhostClustering registers too. Both gateway list providers are registered; the
        // selector below hands Orleans the one the options name.
        services.AddOrleansClient(client =>
        {
            GatewayListSelector.Register(
                client,
                static c => c.UseStaticClustering(gateways => gateways.Configure<IOptions<GatehouseClientOptions>>(
                    static (gatewayOptions, gatehouse) => gatewayOptions.Gateways = gatehouse.Value.Cluster == GatehouseClusterKind.AdoNet
                        ? []
                        : GatewayEndpoints.ToGatewayUris(gatehouse.Value))),
                static c => c.UseAdoNetClustering(adoNet => adoNet.Configure<IOptions<GatehouseClientOptions>>(
                    static (options, gatehouse) =>
                    {
                        options.Invariant = GatehouseClientConstants.AdoNetInvariant;
                        options.ConnectionString = gatehouse.Value.ConnectionString;
                    })));
            // The caller's span (if its process traces) is the parent of the gateway's spans on the silo.
            client.AddActivityPropagation();
            client.Services.AddOptions<GatewayOptions>().Configure<IOptions<GatehouseClientOptions>>(
                static (gateway, gatehouse) => gateway.GatewayListRefreshPeriod = gatehouse.Value.GatewayListRefreshPeriod);
            client.Services.AddOptions<ClusterOptions>().Configure<IOptions<GatehouseClientOptions>>(
                static (cluster, gatehouse) =>
                {
                    cluster.ClusterId = gatehouse.Value.ClusterId;
                    cluster.ServiceId = gatehouse.Value.ServiceId;
                });
            // A call lasts as long as its upstream allows (and a stream longer); Orleans' 30 s default would cut it first.
            client.Services.AddOptions<ClientMessagingOptions>().Configure<IOptions<GatehouseClientOptions>>(
                static (messaging, gatehouse) => messaging.ResponseTimeout = gatehouse.Value.CallTimeout);
        });

        services.TryAddSingleton<GatehouseChatClient>();
        services.TryAddSingleton<IChatClient>(static sp => sp.GetRequiredService<GatehouseChatClient>());
        services.TryAddSingleton<GatehouseEmbeddingGenerator>();
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(static sp => sp.GetRequiredService<GatehouseEmbeddingGenerator>());
        return services;
    }
}
