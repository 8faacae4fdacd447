using System.Globalization;
using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.Silo.Http;

/// <summary>Reads the per-request controls (<see cref="CallOptions"/>) from request headers, the same for every front end.</summary>
internal static class CallOptionsReader
{
    /// <summary>The request header whose value <c>force</c> opts a non-deterministic request into the cache.</summary>
    public const string CacheHeader = GatewayHeaders.Cache;
    public const string PriorityHeader = "x-gatehouse-priority";
    public const string MaxWaitHeader = "x-gatehouse-max-wait-ms";

    /// <exception cref="GatewayException">A gateway header has a value it cannot take (400, naming the header).</exception>
    public static CallOptions Read(HttpRequest request)
    {
        var headers = request.Headers;
        var cacheControl = headers.CacheControl;
        var cache = headers[CacheHeader];
        var priority = headers[PriorityHeader];
        var maxWait = headers[MaxWaitHeader];
        if (cacheControl.Count == 0 && cache.Count == 0 && priority.Count == 0 && maxWait.Count == 0)
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

        return new CallOptions
        {
            NoCacheRead = noCache,
            NoCacheStore = noStore,
            ForceCache = ReadForceCache(cache.ToString()),
            Priority = priority.Count == 0 ? null : ReadPriority(priority.ToString()),
            MaxWait = maxWait.Count == 0 ? null : ReadMaxWait(maxWait.ToString()),
        };
    }

    private static bool ReadForceCache(string value) => value.Trim().ToLowerInvariant() switch
    {
        "" => false,
        "force" => true,
        _ => throw Invalid($"Header '{CacheHeader}' accepts only 'force' on a request.", CacheHeader),
    };

    private static RequestPriority ReadPriority(string value) => value.Trim().ToLowerInvariant() switch
    {
        "high" => RequestPriority.High,
        "normal" => RequestPriority.Normal,
        "low" => RequestPriority.Low,
        _ => throw Invalid($"Header '{PriorityHeader}' must be high, normal or low.", PriorityHeader),
    };

    private static TimeSpan ReadMaxWait(string value) =>
        int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(ms)
            : throw Invalid($"Header '{MaxWaitHeader}' must be a whole number of milliseconds.", MaxWaitHeader);

    private static GatewayException Invalid(string message, string header) => new(GatewayError.InvalidRequest, message, header);
}
