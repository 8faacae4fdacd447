namespace Gatehouse.Silo.Http.Admin;

/// <summary>Maps the admin API (<c>/admin/...</c>), every route behind <see cref="AdminKeyFilter"/>.</summary>
internal static class AdminApiExtensions
{
    /// <summary>Maps the app, key and usage routes; returns the <c>/admin</c> group so more admin routes get the same key check.</summary>
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").AddEndpointFilter<AdminKeyFilter>();
        AdminAppEndpoints.Map(admin);
        AdminKeyEndpoints.Map(admin);
        AdminUsageEndpoints.Map(admin);
        AdminSpendEndpoints.Map(admin);
        return admin;
    }
}
