using System.Net;
using Gatehouse.Configuration;
using Gatehouse.Silo.Configuration;
using Orleans.Configuration;

namespace Gatehouse.Silo.Hosting;

internal static class SiloHostingExtensions
{
    /// <summary>Grain calls may last as long as the slowest upstream allows, so Orleans must not time them out first.</summary>
    public static readonly TimeSpan GrainCallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Adds the Orleans silo, Gatehouse's services and the HTTP limits, all from the <c>Gatehouse</c> section.</summary>
    public static WebApplicationBuilder AddGatehouseSilo(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(GatehouseOptions.SectionName);
        var gatehouse = section.Get<GatehouseOptions>() ?? new GatehouseOptions();

        builder.Services.AddGatehouseGrains(section);
        builder.Services.PostConfigure<GatehouseOptions>(options =>
        {
            if (EmbeddedDefaults.IsUnconfigured(options))
            {
                EmbeddedDefaults.Apply(options);
            }
        });

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = gatehouse.MaxRequestBodyBytes);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(GatehouseConfiguration.DefaultUrl);
        }

        builder.UseOrleans(silo =>
        {
            var cluster = gatehouse.Cluster;
            silo.UseLocalhostClustering(
                siloPort: cluster.SiloPort,
                gatewayPort: cluster.GatewayPort,
                primarySiloEndpoint: cluster.PrimarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                serviceId: cluster.ServiceId,
                clusterId: cluster.ClusterId);
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = GrainCallTimeout);
            silo.AddMemoryGrainStorageAsDefault();
            // One silo's memory: a grant record survives the authority's deactivation, not the process (PostgreSQL does).
            silo.AddMemoryGrainStorage(GatehouseStorageNames.Quota);
        });
        return builder;
    }
}
