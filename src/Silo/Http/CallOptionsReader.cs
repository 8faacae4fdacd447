using Gatehouse.Grains;

namespace Gatehouse.Silo.Http;

/// <summary>Reads the per-request controls (<see cref="CallOptions"/>) from request headers, the same for every front end.</summary>
internal static class CallOptionsReader
{
    public static CallOptions Read(HttpRequest request)
    {
        var cacheControl = request.Headers.CacheControl;
        if (cacheControl.Count == 0)
        {
            return CallOptions.Default;
        }

        var noCache = false;
        var noStore = false;
        foreach (var value in cacheControl)
        {
            foreach (var directive in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                noCache |= directive.Equals("no-cache", StringComparison.OrdinalIgnoreCase);
                noStore |= directive.Equals("no-store", StringComparison.OrdinalIgnoreCase);
            }
        }

        return noCache || noStore ? new CallOptions { NoCacheRead = noCache, NoCacheStore = noStore } : CallOptions.Default;
    }
}
