using System.Globalization;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Silo.Http;

/// <summary>OpenAI's <c>x-ratelimit-*</c> response headers for the caller's app; none for an app without limits.</summary>
/// <remarks>
/// Remaining is this silo's best knowledge: what the app's authority had left over the last minute at this silo's
/// last grant, plus the unused units of this silo's lease (other silos' use since that grant is not seen).
/// </remarks>
internal static class RateLimitHeaders
{
    public const string LimitRequests = "x-ratelimit-limit-requests";
    public const string RemainingRequests = "x-ratelimit-remaining-requests";
    public const string LimitTokens = "x-ratelimit-limit-tokens";
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";

    public static void Write(HttpResponse response, RateLimitSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return;
        }

        var headers = response.Headers;
        if (snapshot.RequestsLimit is { } requestsLimit)
        {
            headers[LimitRequests] = requestsLimit.ToString(CultureInfo.InvariantCulture);
            headers[RemainingRequests] = (snapshot.RequestsRemaining ?? requestsLimit).ToString(CultureInfo.InvariantCulture);
        }

        if (snapshot.TokensLimit is { } tokensLimit)
        {
            headers[LimitTokens] = tokensLimit.ToString(CultureInfo.InvariantCulture);
            headers[RemainingTokens] = (snapshot.TokensRemaining ?? tokensLimit).ToString(CultureInfo.InvariantCulture);
        }
    }
}
