namespace Gatehouse.Silo.Hosting;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (this silo is an active member of its cluster).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok"));
        endpoints.MapGet("/readyz", (IClusterMembershipService membership, ILocalSiloDetails silo) =>
        {
            // Configuration was validated before the host started, so a running host has a valid config.
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return status == SiloStatus.Active
                ? Results.Text("ready")
                : Results.Text($"not ready: silo is {status}", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        return endpoints;
    }
}
