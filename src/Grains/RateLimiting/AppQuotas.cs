using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.RateLimiting;

/// <summary>The pipeline's seam to each app's own quota: admits a request before routing and reconciles its tokens after.</summary>
/// <remarks>Thread-safe singleton. Draws on this silo's leases on the app's <see cref="IAppQuotaGrain"/>, never per request.</remarks>
public sealed class AppQuotas(QuotaLeaseHolder leases, QuotaScopes scopes, TokenEstimator estimator)
{
    /// <summary>
    /// Takes one request and the estimated tokens from the app's quota, waiting up to the call's max-wait; throws a
    /// <see cref="GatewayError.RateLimited"/> <see cref="GatewayException"/> (429, <c>retry-after</c> = time to the next window) when exhausted.
    /// </summary>
    public async ValueTask<QuotaTicket> AcquireAsync(string appId, ChatRequest request, CallOptions options, CancellationToken cancellationToken)
    {
        var scope = scopes.App(appId);
        if (!scope.HasRateLimits)
        {
            return QuotaTicket.Unlimited;
        }

        var tokens = scope.TokensPerMinute is null ? 0 : estimator.Estimate(request, scopes.AppDefaultMaxTokens(appId));
        var ticket = await leases.AcquireAsync(scope, tokens, appId, scopes.PriorityOf(appId, options), scopes.MaxWaitOf(options), cancellationToken)
            .ConfigureAwait(false);
        return ticket.Admitted
            ? ticket
            : throw new GatewayException(GatewayError.RateLimited, $"Rate limit reached for app '{appId}'. Please try again in {ticket.RetryAfter.TotalMilliseconds:0}ms.", retryAfter: ticket.RetryAfter);
    }

    /// <summary>Debits or credits the difference between the estimate and the usage the upstream reported (nothing when it reported none).</summary>
    public void Reconcile(QuotaTicket ticket, Usage? usage)
    {
        if (usage is not null)
        {
            leases.Reconcile(ticket, usage.TotalTokens);
        }
    }

    /// <summary>The app's limits and what is left, for the <c>x-ratelimit-*</c> headers; null for an app without limits.</summary>
    public RateLimitSnapshot? Snapshot(string appId) => leases.Snapshot(scopes.App(appId));
}
