using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>One attempt's admission to an upstream; dispose it when the call is over to release the concurrency slot and reconcile tokens.</summary>
public sealed class UpstreamPermit : IDisposable
{
    internal static readonly UpstreamPermit Unlimited = new(null, QuotaLease.Unlimited, null);

    private readonly QuotaRateLimiter? _rates;
    private readonly QuotaLease _admitted;
    private SlotLease? _slot;
    private Usage? _usage;

    internal UpstreamPermit(QuotaRateLimiter? rates, QuotaLease admitted, SlotLease? slot)
    {
        _rates = rates;
        _admitted = admitted;
        _slot = slot;
    }

    private UpstreamPermit(GatewayException rejected)
        : this(null, QuotaLease.Unlimited, null) => Rejected = rejected;

    /// <summary>Set when the upstream's bucket or concurrency cap had no room before the deadline: nothing is held then.</summary>
    public GatewayException? Rejected { get; }

    /// <summary>Records the usage the upstream reported, for reconciliation on dispose.</summary>
    public void Complete(Usage? usage) => _usage = usage ?? _usage;

    /// <summary>Passes a stream through, remembering its usage chunk for reconciliation.</summary>
    public IAsyncEnumerable<ChatChunk> Track(IAsyncEnumerable<ChatChunk> chunks) =>
        _rates is null || _admitted.Lease is null ? chunks : TrackAsync(chunks);

    public void Dispose()
    {
        Interlocked.Exchange(ref _slot, null)?.Dispose();
        if (_rates is not null && _usage is { } usage)
        {
            _rates.Reconcile(_admitted, usage.TotalTokens);
        }
    }

    internal static UpstreamPermit Refused(GatewayException rejected) => new(rejected);

    private async IAsyncEnumerable<ChatChunk> TrackAsync(IAsyncEnumerable<ChatChunk> chunks, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Complete(chunk.Usage);
            yield return chunk;
        }
    }
}
