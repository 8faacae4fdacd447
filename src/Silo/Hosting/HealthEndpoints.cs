namespace Gatehouse.Silo.Hosting;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (this silo is an active member of its cluster and has loaded its app snapshot).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok"));
        endpoints.MapGet("/readyz", (IClusterMembershipService membership, ILocalSiloDetails silo, HttpContext context) =>
        {
            // Configuration was validated before the host started, so a running host has a valid config.
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            if (status != SiloStatus.Active)
            {
                return Results.Text($"not ready: silo is {status}", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            // Until then only the config file's apps are known: an app made through the admin API would be refused.
            return context.RequestServices.GetService<Gatehouse.Apps.AppSnapshotSync>() is { IsLoaded: false }
                ? Results.Text("not ready: apps not loaded yet", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ready");
        });
        return endpoints;
    }
}
