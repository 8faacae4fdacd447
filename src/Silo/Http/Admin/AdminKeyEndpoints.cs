using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Admin;

/// <summary><c>POST/GET /admin/apps/{id}/keys</c> and <c>DELETE /admin/apps/{id}/keys/{keyId}</c>.</summary>
/// <remarks>A new key is shown once, in the 201 body; the grain keeps only its SHA-256 hash.</remarks>
internal static class AdminKeyEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/apps/{id}/keys", CreateAsync);
        admin.MapGet("/apps/{id}/keys", ListAsync);
        admin.MapDelete("/apps/{id}/keys/{keyId}", RevokeAsync);
    }

    private static async Task<IResult> CreateAsync(string id, HttpContext context, IGrainFactory grains, TimeProvider timeProvider, IOptions<GatehouseOptions> options)
    {
        return await AdminAppEndpoints.Guarded(async () =>
        {
            string? name = null;
            if (context.Request.ContentLength is not 0 && (context.Request.ContentLength is not null || context.Request.Headers.TransferEncoding.Count > 0))
            {
                using var body = await RequestBody.ReadJsonAsync(context.Request, options.Value.MaxRequestBodyBytes, context.RequestAborted);
                name = AdminAppReader.ReadKeyName(body.RootElement);
            }

            var plain = AppKeyGenerator.NewKey();
            var key = new AppKey
            {
                Id = AppKeyGenerator.NewKeyId(),
                Hash = AppKeyHasher.Hash(plain),
                Prefix = AppKeyGenerator.PrefixOf(plain),
                Name = name,
                CreatedAt = timeProvider.GetUtcNow(),
            };
            return await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).AddKeyAsync(key, context.RequestAborted) is null
                ? AdminAppEndpoints.AppNotFound(id)
                : AdminResults.Json(StatusCodes.Status201Created, w => AdminJsonWriter.WriteKey(w, key, plain));
        });
    }

    private static async Task<IResult> ListAsync(string id, IGrainFactory grains, CancellationToken cancellationToken) =>
        await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).GetAsync(cancellationToken) is { } app
            ? AdminResults.Json(StatusCodes.Status200OK, w => AdminJsonWriter.WriteKeys(w, app.Keys))
            : AdminAppEndpoints.AppNotFound(id);

    private static async Task<IResult> RevokeAsync(string id, string keyId, IGrainFactory grains, CancellationToken cancellationToken) =>
        await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).RevokeKeyAsync(keyId, cancellationToken) switch
        {
            AppKeyRevocation.Revoked => Results.NoContent(),
            AppKeyRevocation.AppNotFound => AdminAppEndpoints.AppNotFound(id),
            _ => AdminResults.Error(new GatewayException(GatewayError.NotFound, $"The app '{id}' has no key '{keyId}'.", "keyId")),
        };
}
