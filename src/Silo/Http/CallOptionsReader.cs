using System.Globalization;
using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.Silo.Http;

/// <summary>Reads the per-request controls (<see cref="CallOptions"/>) from request headers, the same for every front end.</summary>
internal static class CallOptionsReader
{
    /// <summary>How long the request may wait for a recovering upstream when every target's circuit is open, in milliseconds.</summary>
    public const string MaxWaitHeader = "x-gatehouse-max-wait-ms";

    /// <summary>The largest accepted <see cref="MaxWaitHeader"/>: 10 minutes, beyond any sensible client timeout.</summary>
    private const long MaxWaitLimitMs = 600_000;

    public static CallOptions Read(HttpRequest request)
    {
        var options = CallOptions.Default;
        var cacheControl = request.Headers.CacheControl;
        if (cacheControl.Count > 0)
        {
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

            if (noCache || noStore)
            {
                options = new CallOptions { NoCacheRead = noCache, NoCacheStore = noStore };
            }
        }

        if (request.Headers.TryGetValue(MaxWaitHeader, out var maxWait))
        {
            if (!long.TryParse(maxWait.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms > MaxWaitLimitMs)
            {
                throw new GatewayException(
                    GatewayError.InvalidRequest, $"The {MaxWaitHeader} header must be a whole number of milliseconds from 0 to {MaxWaitLimitMs}.", MaxWaitHeader);
            }

            options = options with { MaxWait = TimeSpan.FromMilliseconds(ms) };
        }

        return options;
    }
}
