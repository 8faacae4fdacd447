using Orleans.Dashboard;
using DashboardOptions = Gatehouse.Configuration.DashboardOptions;

namespace Gatehouse.Silo.Http.Dashboard;

/// <summary>The Orleans Dashboard under <c>Gatehouse:Dashboard:PathPrefix</c>, when <c>Gatehouse:Dashboard:Enabled</c>, behind <see cref="DashboardKeyFilter"/>.</summary>
internal static class DashboardEndpoints
{
    /// <summary>Adds the dashboard's silo services (its grain-call profiler and counters) when it is enabled.</summary>
    public static void AddDashboardWhenEnabled(this ISiloBuilder silo, IConfigurationSection gatehouse)
    {
        if (IsEnabled(gatehouse))
        {
            // The live log view would show the silo's log lines to anyone holding the admin key; the console has them.
            silo.AddDashboard(options => options.HideTrace = true);
        }
    }

    /// <summary>Maps the dashboard once the configuration is validated (an enabled dashboard has an admin key then).</summary>
    public static IEndpointRouteBuilder MapGatehouseDashboard(this IEndpointRouteBuilder endpoints, DashboardOptions options)
    {
        if (options.Enabled)
        {
            endpoints.MapOrleansDashboard(options.PathPrefix).AddEndpointFilter<DashboardKeyFilter>();
        }

        return endpoints;
    }

    /// <summary>Read before the configuration is validated (the silo is built first): anything but <c>true</c> is off.</summary>
    private static bool IsEnabled(IConfigurationSection gatehouse) =>
        bool.TryParse(gatehouse["Dashboard:Enabled"], out var enabled) && enabled;
}
