using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Admin;

/// <summary>
/// Lets a request through only with <c>Authorization: Bearer &lt;AdminKey&gt;</c>; anything else (no header, another
/// scheme, an app key) is a 401 in OpenAI's envelope. With no <c>Gatehouse:AdminKey</c> the admin API does not exist: 404.
/// </summary>
/// <remarks>
/// Both keys are hashed to SHA-256 and the digests compared with <see cref="CryptographicOperations.FixedTimeEquals"/>,
/// so neither the comparison's time nor the key's length says anything about the key. Add it to any admin route
/// (<c>.AddEndpointFilter&lt;AdminKeyFilter&gt;()</c>). Nothing here logs.
/// </remarks>
internal sealed class AdminKeyFilter(IOptions<GatehouseOptions> options) : IEndpointFilter
{
    private const string BearerPrefix = "Bearer ";

    private readonly byte[]? _adminKeyDigest = SecretValue.Resolve(options.Value.AdminKey)?.Trim() is { Length: > 0 } key
        ? SHA256.HashData(Encoding.UTF8.GetBytes(key))
        : null;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_adminKeyDigest is null)
        {
            return AdminResults.Error(new GatewayException(GatewayError.NotFound, "The admin API is disabled: Gatehouse:AdminKey is not set."));
        }

        if (!IsAdminKey(context.HttpContext.Request.Headers.Authorization.ToString()))
        {
            return AdminResults.Error(new GatewayException(GatewayError.Unauthenticated,
                "Incorrect or missing admin key. Send the admin key as 'Authorization: Bearer <key>'."));
        }

        return await next(context);
    }

    private bool IsAdminKey(string authorization)
    {
        if (!authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(authorization[BearerPrefix.Length..].Trim()), presented);
        return CryptographicOperations.FixedTimeEquals(presented, _adminKeyDigest);
    }
}
