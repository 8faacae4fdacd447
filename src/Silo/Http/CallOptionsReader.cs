using Gatehouse.Grains;

namespace Gatehouse.Silo.Http;

/// <summary>Reads the per-request controls (<see cref="CallOptions"/>) from request headers, the same for every front end.</summary>
internal static class CallOptionsReader
{
    /// <summary>The request header whose value <c>force</c> opts a non-deterministic request into the cache.</summary>
    public const string CacheHeader = GatewayHeaders.Cache;

    public static CallOptions Read(HttpRequest request)
    {
        var cacheControl = request.Headers.CacheControl;
        var force = request.Headers.TryGetValue(CacheHeader, out var cacheHeader)
            && cacheHeader.Any(v => string.Equals(v?.Trim(), "force", StringComparison.OrdinalIgnoreCase));
        if (cacheControl.Count == 0)
        {
            return force ? new CallOptions { ForceCache = true } : CallOptions.Default;
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

        return noCache || noStore || force ? new CallOptions { NoCacheRead = noCache, NoCacheStore = noStore, ForceCache = force } : CallOptions.Default;
    }
}
