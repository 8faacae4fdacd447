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

    private readonly byte[]? _adminKeyDigest = DigestOf(options.Value);

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

    /// <summary>The SHA-256 of the configured admin key; null when there is none.</summary>
    internal static byte[]? DigestOf(GatehouseOptions options) =>
        SecretValue.Resolve(options.AdminKey)?.Trim() is { Length: > 0 } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;

    /// <summary>Whether <paramref name="presented"/> is the admin key, compared as digests in constant time.</summary>
    internal static bool Matches(byte[] adminKeyDigest, ReadOnlySpan<char> presented)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented.Trim().ToString()), digest);
        return CryptographicOperations.FixedTimeEquals(digest, adminKeyDigest);
    }

    private bool IsAdminKey(string authorization) =>
        authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) && Matches(_adminKeyDigest!, authorization.AsSpan(BearerPrefix.Length));
}
