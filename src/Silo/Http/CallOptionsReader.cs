using System.Globalization;
using Gatehouse.Grains;

namespace Gatehouse.Silo.Http;

/// <summary>Reads the per-request controls (<see cref="CallOptions"/>) from request headers, the same for every front end.</summary>
internal static class CallOptionsReader
{
    public const string PriorityHeader = "x-gatehouse-priority";
    public const string MaxWaitHeader = "x-gatehouse-max-wait-ms";

    public static CallOptions Read(HttpRequest request)
    {
        var headers = request.Headers;
        var cacheControl = headers.CacheControl;
        var priority = headers[PriorityHeader];
        var maxWait = headers[MaxWaitHeader];
        if (cacheControl.Count == 0 && priority.Count == 0 && maxWait.Count == 0)
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
            Priority = ReadPriority(priority.ToString()),
            MaxWait = ReadMaxWait(maxWait.ToString()),
        };
    }

    /// <summary>high, normal or low (any case); anything else is ignored rather than failing the request.</summary>
    private static RequestPriority? ReadPriority(string value) => value.Trim().ToLowerInvariant() switch
    {
        "high" => RequestPriority.High,
        "normal" => RequestPriority.Normal,
        "low" => RequestPriority.Low,
        _ => null,
    };

    private static TimeSpan? ReadMaxWait(string value) =>
        int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : null;
}
