using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.RateLimiting;

/// <summary>
/// The router's seam to the upstream's buckets: one <see cref="UpstreamPermit"/> per attempt, drawn from this silo's
/// leases on the provider's authority, so the router never calls a bucket grain per request.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class UpstreamAdmission(QuotaLeaseHolder leases, QuotaScopes scopes, TokenEstimator estimator)
{
    /// <summary>A concurrency cap has no refill schedule: slots come back when calls end, typically well within a second.</summary>
    private static readonly TimeSpan SlotRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Takes a request, the call's estimated tokens and a concurrency slot of <paramref name="provider"/>, waiting up to
    /// the call's max-wait. A refusal is returned (not thrown) as a retryable <see cref="GatewayError.RateLimited"/>
    /// error carrying the time to the next window, so the router can move on to the next target.
    /// </summary>
    public async ValueTask<UpstreamPermit> AcquireAsync(string provider, RoutedCall call, CancellationToken cancellationToken)
    {
        var scope = scopes.Provider(provider);
        if (!scope.HasRateLimits && scope.MaxConcurrency is null)
        {
            return UpstreamPermit.Unlimited;
        }

        var ticket = QuotaTicket.Unlimited;
        var priority = scopes.PriorityOf(call.AppId, call.Options);
        var maxWait = scopes.MaxWaitOf(call.Options);
        if (scope.HasRateLimits)
        {
            var tokens = scope.TokensPerMinute is null ? 0 : estimator.Estimate(call.Request, scopes.ProviderDefaultMaxTokens(provider));
            ticket = await leases.AcquireAsync(scope, tokens, call.AppId, priority, maxWait, cancellationToken)
                .ConfigureAwait(false);
            if (!ticket.Admitted)
            {
                return new UpstreamPermit(leases, ticket, null,
                    new GatewayException(GatewayError.RateLimited, $"The upstream '{provider}' is at its rate limit.", retryAfter: ticket.RetryAfter));
            }
        }

        var slot = await leases.AcquireSlotAsync(scope, priority, maxWait, cancellationToken).ConfigureAwait(false);
        if (slot is null)
        {
            // The request unit stays debited: the upstream was not called, but handing it back would cost an authority call.
            return new UpstreamPermit(leases, ticket, null,
                new GatewayException(GatewayError.RateLimited, $"The upstream '{provider}' is at its concurrency limit.", retryAfter: SlotRetryAfter));
        }

        return new UpstreamPermit(leases, ticket, slot, null);
    }
}

/// <summary>One attempt's admission to an upstream; dispose it when the call is over to release the concurrency slot and reconcile tokens.</summary>
public sealed class UpstreamPermit : IDisposable
{
    internal static readonly UpstreamPermit Unlimited = new(null, QuotaTicket.Unlimited, null, null);

    private readonly QuotaLeaseHolder? _leases;
    private readonly QuotaTicket _ticket;
    private SlotTicket? _slot;
    private Usage? _usage;

    internal UpstreamPermit(QuotaLeaseHolder? leases, QuotaTicket ticket, SlotTicket? slot, GatewayException? rejected)
    {
        _leases = leases;
        _ticket = ticket;
        _slot = slot;
        Rejected = rejected;
    }

    /// <summary>Set when the upstream's bucket had no room before the deadline: a retryable error for the router's attempt loop.</summary>
    public GatewayException? Rejected { get; }

    /// <summary>Records the usage the upstream reported, for reconciliation on dispose.</summary>
    public void Complete(Usage? usage) => _usage = usage ?? _usage;

    /// <summary>Passes a stream through, remembering its usage chunk for reconciliation.</summary>
    public IAsyncEnumerable<ChatChunk> Track(IAsyncEnumerable<ChatChunk> chunks) =>
        ReferenceEquals(this, Unlimited) || _ticket.Lease is null ? chunks : TrackAsync(chunks);

    public void Dispose()
    {
        Interlocked.Exchange(ref _slot, null)?.Dispose();
        if (_leases is not null && Rejected is null && _usage is { } usage)
        {
            _leases.Reconcile(_ticket, usage.TotalTokens);
        }
    }

    private async IAsyncEnumerable<ChatChunk> TrackAsync(IAsyncEnumerable<ChatChunk> chunks, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Complete(chunk.Usage);
            yield return chunk;
        }
    }
}
