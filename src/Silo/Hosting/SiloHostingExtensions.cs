using Gatehouse.Configuration;
using Gatehouse.Silo.Configuration;
using Gatehouse.Silo.Http.Dashboard;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Gatehouse.Silo.Hosting;

internal static class SiloHostingExtensions
{
    /// <summary>Grain calls may last as long as the slowest upstream allows, so Orleans must not time them out first.</summary>
    public static readonly TimeSpan GrainCallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Adds the Orleans silo, Gatehouse's services and the HTTP limits, all from the <c>Gatehouse</c> section.</summary>
    /// <remarks>
    /// Kestrel and Orleans read their settings from the validated <see cref="GatehouseOptions"/> when the host starts, never
    /// from the raw configuration here: a value that does not bind or is out of range is reported by the start-up
    /// validation, before either of them sees it.
    /// </remarks>
    public static WebApplicationBuilder AddGatehouseSilo(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(GatehouseOptions.SectionName);

        builder.Services.AddGatehouseGrains(section);
        builder.Services.AddAppSnapshotSync();
        builder.Services.PostConfigure<GatehouseOptions>(options =>
        {
            if (EmbeddedDefaults.IsUnconfigured(options))
            {
                EmbeddedDefaults.Apply(options);
            }
        });

        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<GatehouseOptions>>((kestrel, gatehouse) =>
        {
            // Kestrel's options are built with the app, before Program validates: an invalid configuration leaves the
            // limit alone here and is reported there (the options are not cached after a failure, so it fails again).
            try
            {
                kestrel.Limits.MaxRequestBodySize = gatehouse.Value.MaxRequestBodyBytes;
            }
            catch (OptionsValidationException)
            {
            }
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(GatehouseConfiguration.DefaultUrl);
        }

        builder.UseOrleans(silo =>
        {
            silo.AddClustering(section);
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = GrainCallTimeout);
            silo.AddStorage(section);
            // Spans cross grain calls: an upstream attempt on another silo is a child of the request that caused it.
            silo.AddActivityPropagation();
            silo.AddDashboardWhenEnabled(section);
        });
        return builder;
    }
}
