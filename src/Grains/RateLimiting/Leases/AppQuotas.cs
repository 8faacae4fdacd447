using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Metrics;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>The pipeline's seam to each app's own quota: admits a request before routing and reconciles its tokens after.</summary>
/// <remarks>Thread-safe singleton. Draws on this silo's leases on the app's <see cref="IAppQuotaGrain"/>, never per request.</remarks>
public sealed class AppQuotas(QuotaLeaseHolder leases, QuotaScopes scopes, GatehouseMetrics metrics)
{
    /// <summary>
    /// Takes one request and its estimated tokens from the app's quota, waiting at most what <paramref name="deadline"/>
    /// allows a bucket; throws a <see cref="GatewayError.RateLimited"/> <see cref="GatewayException"/> (429,
    /// <c>retry-after</c> = time to the next slot) when exhausted.
    /// </summary>
    /// <param name="estimate">The request's tokens, whatever its kind; read only for an app with a token limit.</param>
    public async ValueTask<QuotaLease> AcquireAsync(string appId, RequestEstimate estimate, CallOptions options, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var scope = scopes.App(appId);
        if (!scope.HasRateLimits)
        {
            return QuotaLease.Unlimited;
        }

        var tokens = scope.TokensPerMinute is null ? 0 : estimate.TotalTokens;
        var lease = await leases.Rates.AcquireAsync(new QuotaDemand(scope, tokens, appId, scopes.PriorityOf(appId, options), deadline.BucketWait), cancellationToken)
            .ConfigureAwait(false);
        if (lease.IsAcquired)
        {
            return lease;
        }

        metrics.RateLimited("app");
        throw new GatewayException(GatewayError.RateLimited, $"Rate limit reached for app '{appId}'. Please try again in {lease.RetryAfter.TotalMilliseconds:0}ms.", retryAfter: lease.RetryAfter);
    }

    /// <summary>Debits or credits the difference between the estimate and the usage the upstream reported (nothing when it reported none).</summary>
    public void Reconcile(QuotaLease lease, Usage? usage)
    {
        if (usage is not null)
        {
            leases.Rates.Reconcile(lease, usage.TotalTokens);
        }
    }

    /// <summary>The app's limits and what is left, for the <c>x-ratelimit-*</c> headers; null for an app without limits.</summary>
    public RateLimitSnapshot? Snapshot(string appId) => leases.Rates.Snapshot(scopes.App(appId));
}
