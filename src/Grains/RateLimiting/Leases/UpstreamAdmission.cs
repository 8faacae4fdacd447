using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// The router's seam to the upstream's buckets: one <see cref="UpstreamPermit"/> per attempt, drawn from this silo's
/// leases on the provider's authority, so the router never calls a bucket grain per request.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class UpstreamAdmission(QuotaLeaseHolder leases, QuotaScopes scopes, TokenEstimator estimator)
{
    /// <summary>
    /// Takes a concurrency slot of <paramref name="provider"/>, then a request and the call's estimated tokens, each
    /// waiting at most what <paramref name="deadline"/> allows a bucket. A refusal is returned (not thrown) as a
    /// <see cref="GatewayError.RateLimited"/> error carrying the time to the next slot, so the router can move on.
    /// </summary>
    /// <remarks>
    /// The slot comes first: a request unit is debited only when the call can start at once, so it is never spent
    /// in a later slot than the one it was taken from. A refused unit releases the slot.
    /// </remarks>
    public async ValueTask<UpstreamPermit> AcquireAsync(string provider, RoutedCall call, IModelRequest request, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var scope = scopes.Provider(provider);
        if (!scope.HasRateLimits && scope.MaxConcurrency is null)
        {
            return UpstreamPermit.Unlimited;
        }

        var priority = scopes.PriorityOf(call.AppId, call.Options);
        var slot = SlotLease.Unlimited;
        if (scope.MaxConcurrency is not null)
        {
            slot = await leases.Slots.AcquireAsync(new SlotDemand(scope, priority, deadline.BucketWait), cancellationToken).ConfigureAwait(false);
            if (!slot.IsAcquired)
            {
                return UpstreamPermit.Refused(
                    new GatewayException(GatewayError.RateLimited, $"The upstream '{provider}' is at its concurrency limit.", retryAfter: slot.RetryAfter));
            }
        }

        var admitted = QuotaLease.Unlimited;
        if (scope.HasRateLimits)
        {
            var tokens = scope.TokensPerMinute is null ? 0 : estimator.Estimate(request, scopes.ProviderDefaultMaxTokens(provider));
            try
            {
                admitted = await leases.Rates.AcquireAsync(new QuotaDemand(scope, tokens, call.AppId, priority, deadline.BucketWait), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch
            {
                slot.Dispose();
                throw;
            }

            if (!admitted.IsAcquired)
            {
                slot.Dispose();
                return UpstreamPermit.Refused(
                    new GatewayException(GatewayError.RateLimited, $"The upstream '{provider}' is at its rate limit.", retryAfter: admitted.RetryAfter));
            }
        }

        return new UpstreamPermit(leases.Rates, admitted, slot);
    }
}
