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

/// <summary>The per-app quota authority (key: the app id, see <see cref="GrainKeys.AppQuota"/>).</summary>
[Alias("gatehouse.IAppQuotaGrain")]
public interface IAppQuotaGrain : IGrainWithStringKey, IQuotaAuthority;

/// <summary>A silo's ask for a batch of capacity.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.LeaseRequest")]
public sealed record LeaseRequest
{
    /// <summary>The silo-local lease holder asking (one per silo process).</summary>
    [Id(0)] public required string HolderId { get; init; }
    /// <summary>The app the triggering request belongs to: equal-priority apps are served round-robin.</summary>
    [Id(1)] public required string AppId { get; init; }
    [Id(2)] public RequestPriority Priority { get; init; } = RequestPriority.Normal;
    /// <summary>Requests the triggering call needs now (0 or 1); the grant is all-or-nothing on the needed units.</summary>
    [Id(3)] public int RequestsNeeded { get; init; }
    [Id(4)] public int TokensNeeded { get; init; }
    /// <summary>The batch the holder would like (≥ needed), sized from its recent demand.</summary>
    [Id(5)] public int RequestsWanted { get; init; }
    [Id(6)] public int TokensWanted { get; init; }
    /// <summary>How long the authority may queue the request when the bucket is empty.</summary>
    [Id(7)] public TimeSpan MaxWait { get; init; }
    /// <summary>A slot with less time than this left is too short to use: the grant is made for the next slot instead (the holder's safety margin).</summary>
    [Id(8)] public TimeSpan MinValidity { get; init; }
    /// <summary>Requests and tokens the holder's callers are waiting for right now (this call included): the batch granted when others queue too.</summary>
    [Id(9)] public int RequestsWaiting { get; init; }
    [Id(10)] public int TokensWaiting { get; init; }
}

/// <summary>Capacity granted until the end of one slot, or a rejection with the time until capacity is expected.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.LeaseGrant")]
public sealed record LeaseGrant
{
    /// <summary>False when nothing was granted before the deadline; see <see cref="RetryAfter"/>.</summary>
    [Id(0)] public bool Granted { get; init; }
    /// <summary>The authority's clock (UTC ticks) at the grant (the next slot's start for a grant made for it): returned units are credited to that slot.</summary>
    [Id(1)] public long GrantedAtTicks { get; init; }
    [Id(2)] public int Requests { get; init; }
    [Id(3)] public int Tokens { get; init; }
    /// <summary>Time left in the slot when the authority answered; the holder measures it from before it sent the request.</summary>
    [Id(4)] public TimeSpan ValidFor { get; init; }
    /// <summary>Time until the needed units are expected to be grantable, when not granted.</summary>
    [Id(5)] public TimeSpan RetryAfter { get; init; }
    /// <summary>The configured per-minute limits (null = unlimited).</summary>
    [Id(6)] public int? RequestsLimit { get; init; }
    [Id(7)] public int? TokensLimit { get; init; }
    /// <summary>What is left of the limit over the last minute after this grant (granted batches count as used).</summary>
    [Id(8)] public int? RequestsRemaining { get; init; }
    [Id(9)] public int? TokensRemaining { get; init; }
    /// <summary>How long the request waited in the authority's queue: the holder adds it to its send time (both are durations, so clocks need not agree).</summary>
    [Id(10)] public TimeSpan Queued { get; init; }
}

/// <summary>Units handed back and token usage to debit.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.LeaseSettlement")]
public sealed record LeaseSettlement
{
    /// <summary><see cref="LeaseGrant.GrantedAtTicks"/> of the returned units: credited to that slot while it still counts (61 s).</summary>
    [Id(0)] public long GrantedAtTicks { get; init; }
    [Id(1)] public int RequestsReturned { get; init; }
    [Id(2)] public int TokensReturned { get; init; }
    /// <summary>Tokens used beyond what was leased (estimate too low): debited now; they count for the next minute like any other use.</summary>
    [Id(3)] public int TokensOwed { get; init; }
}

/// <summary>A holder's wish for concurrency slots: the total it wants to hold after the call.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.SlotRequest")]
public sealed record SlotRequest
{
    [Id(0)] public required string HolderId { get; init; }
    /// <summary>Slots the holder wants to hold in total (0 gives all back).</summary>
    [Id(1)] public int Wanted { get; init; }
    /// <summary>Slots the holder cannot do without (in flight + the caller's one, if any): the extra one is refused when the cap is reached.</summary>
    [Id(2)] public int Needed { get; init; }
    [Id(3)] public TimeSpan MaxWait { get; init; }
    /// <summary>Slots in use by calls under way on the holder: never taken away, even when the cap is squeezed.</summary>
    [Id(4)] public int InFlight { get; init; }
    /// <summary>Increases with every request of this holder: the holder applies only the answer to its newest request.</summary>
    [Id(5)] public long Sequence { get; init; }
}

/// <summary>The slots a holder now holds and for how long (renew before it runs out).</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.SlotGrant")]
public sealed record SlotGrant
{
    [Id(0)] public int Held { get; init; }
    [Id(1)] public TimeSpan ValidFor { get; init; }
    /// <summary>Null when the authority has no concurrency cap.</summary>
    [Id(2)] public int? Limit { get; init; }
    [Id(3)] public TimeSpan RetryAfter { get; init; }
    /// <summary>The <see cref="SlotRequest.Sequence"/> this answers: an answer older than one already applied is stale.</summary>
    [Id(4)] public long Sequence { get; init; }
}
