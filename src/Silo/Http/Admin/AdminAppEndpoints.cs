using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Routing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Admin;

/// <summary><c>GET/POST /admin/apps</c> and <c>GET/PATCH/DELETE /admin/apps/{id}</c>: the app grains, read and changed.</summary>
internal static class AdminAppEndpoints
{
    /// <summary>How often a PATCH re-reads and re-applies when another change landed between its read and its write.</summary>
    private const int PatchAttempts = 5;

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/apps", ListAsync);
        admin.MapPost("/apps", CreateAsync);
        admin.MapGet("/apps/{id}", GetAsync);
        admin.MapPatch("/apps/{id}", PatchAsync);
        admin.MapDelete("/apps/{id}", DeleteAsync);
    }

    public static IResult AppNotFound(string id) =>
        AdminResults.Error(new GatewayException(GatewayError.NotFound, $"The app '{id}' does not exist.", "id"));

    private static async Task<IResult> ListAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var entries = await grains.GetGrain<IAppDirectoryGrain>(GrainKeys.AppDirectory).GetEntriesAsync(cancellationToken);
        var apps = await Task.WhenAll(entries.Apps.Keys.Order(StringComparer.Ordinal)
            .Select(id => grains.GetGrain<IAppGrain>(GrainKeys.App(id)).GetAsync(cancellationToken)));
        return AdminResults.Json(StatusCodes.Status200OK, w => AdminJsonWriter.WriteApps(w, apps.OfType<AppRecord>()));
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IGrainFactory grains, RouteTable routes, IOptions<GatehouseOptions> options)
    {
        return await Guarded(async () =>
        {
            using var body = await RequestBody.ReadJsonAsync(context.Request, options.Value.MaxRequestBodyBytes, context.RequestAborted);
            var (id, settings) = AdminAppReader.ReadCreate(body.RootElement, alias => routes.Find(alias) is not null);
            var created = await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).CreateAsync(settings, context.RequestAborted);
            return created is null
                ? AdminResults.Error(new GatewayException(GatewayError.Conflict, $"The app '{id}' exists already.", "id"))
                : AdminResults.Json(StatusCodes.Status201Created, w => AdminJsonWriter.WriteApp(w, created));
        });
    }

    private static async Task<IResult> GetAsync(string id, IGrainFactory grains, CancellationToken cancellationToken) =>
        await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).GetAsync(cancellationToken) is { } app
            ? AdminResults.Json(StatusCodes.Status200OK, w => AdminJsonWriter.WriteApp(w, app))
            : AppNotFound(id);

    private static async Task<IResult> PatchAsync(string id, HttpContext context, IGrainFactory grains, RouteTable routes, IOptions<GatehouseOptions> options)
    {
        return await Guarded(async () =>
        {
            using var body = await RequestBody.ReadJsonAsync(context.Request, options.Value.MaxRequestBodyBytes, context.RequestAborted);
            var grain = grains.GetGrain<IAppGrain>(GrainKeys.App(id));
            for (var attempt = 0; attempt < PatchAttempts; attempt++)
            {
                if (await grain.GetAsync(context.RequestAborted) is not { } current)
                {
                    return AppNotFound(id);
                }

                var settings = AdminAppReader.ReadPatch(body.RootElement, current.Settings, alias => routes.Find(alias) is not null);
                if (await grain.UpdateAsync(settings, current.Version, context.RequestAborted) is { } updated)
                {
                    return AdminResults.Json(StatusCodes.Status200OK, w => AdminJsonWriter.WriteApp(w, updated));
                }
            }

            return AdminResults.Error(new GatewayException(GatewayError.Conflict, $"The app '{id}' kept changing while it was being updated; retry."));
        });
    }

    private static async Task<IResult> DeleteAsync(string id, IGrainFactory grains, CancellationToken cancellationToken) =>
        await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).DeleteAsync(cancellationToken) ? Results.NoContent() : AppNotFound(id);

    /// <summary>Runs a handler that reads a body: a bad body is a 400 in the envelope, not a framework error.</summary>
    public static async Task<IResult> Guarded(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (GatewayException error)
        {
            return AdminResults.Error(error);
        }
    }
}
