namespace Gatehouse.Grains;

/// <summary>
/// The cluster-wide authority for a set of per-minute buckets (requests, tokens) and a concurrency cap: it hands
/// capacity to per-silo lease holders in batches, debited up front, so the limit holds across every silo.
/// </summary>
/// <remarks>
/// Called only when a silo's lease runs out, never per request. Reentrant: a call may wait (bounded by
/// <see cref="LeaseRequest.MaxWait"/> and the caller's cancellation) for capacity while others proceed.
/// </remarks>
[Alias("gatehouse.IQuotaAuthority")]
public interface IQuotaAuthority : IAddressable
{
    /// <summary>Grants a batch valid until the end of the authority's current 1-second slot, waiting up to <see cref="LeaseRequest.MaxWait"/> when empty.</summary>
    [Alias("AcquireLease")]
    Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default);

    /// <summary>Credits unused units back to the slot they were granted in and debits token usage the estimate missed.</summary>
    [Alias("Settle")]
    ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default);

    /// <summary>Takes, renews or gives back concurrency slots; returns the slots the holder now has and until when.</summary>
    [Alias("LeaseSlots")]
    Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default);
}
