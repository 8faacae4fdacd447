using System.Globalization;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http;

/// <summary>The <c>x-gatehouse-*</c> response headers.</summary>
internal static class GatewayHeaders
{
    public const string Provider = "x-gatehouse-provider";
    public const string Model = "x-gatehouse-model";
    public const string Attempts = "x-gatehouse-attempts";
    public const string Cache = "x-gatehouse-cache";

    public static void WriteRoute(HttpResponse response, RouteInfo? route)
    {
        if (route is null)
        {
            return;
        }

        var headers = response.Headers;
        headers[Provider] = route.Provider;
        headers[Model] = route.Model;
        headers[Attempts] = route.Attempts.ToString(CultureInfo.InvariantCulture);
        if (route.Cache is not null)
        {
            headers[Cache] = route.Cache;
        }
    }
}
