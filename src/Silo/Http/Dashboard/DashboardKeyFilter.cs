using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Silo.Http.Admin;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Dashboard;

/// <summary>
/// The Orleans Dashboard's door: the admin key as <c>Authorization: Bearer &lt;key&gt;</c>, or as the password of HTTP
/// Basic authentication (any user name), so that a browser can open it; anything else is a 401 that asks a browser for it.
/// </summary>
/// <remarks>Compared like the admin API's key (SHA-256 digests, constant time). Nothing here logs.</remarks>
internal sealed class DashboardKeyFilter(IOptions<GatehouseOptions> options) : IEndpointFilter
{
    private readonly byte[]? _adminKeyDigest = AdminKeyFilter.DigestOf(options.Value);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = PresentedKey(context.HttpContext.Request.Headers.Authorization.ToString());
        if (_adminKeyDigest is not null && presented is not null && AdminKeyFilter.Matches(_adminKeyDigest, presented))
        {
            return await next(context);
        }

        context.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"Gatehouse dashboard\", charset=\"UTF-8\"";
        return Results.Text("The Orleans Dashboard needs the admin key: as the password (any user name), or as 'Authorization: Bearer <key>'.\n",
            statusCode: StatusCodes.Status401Unauthorized);
    }

    private static string? PresentedKey(string authorization)
    {
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..];
        }

        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
            var colon = credentials.IndexOf(':');
            return colon < 0 ? null : credentials[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
