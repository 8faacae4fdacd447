using Gatehouse.Grains;
using Orleans.Runtime;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>This silo's way to the quota authorities: the holder id they know it by, and the count of calls made to them.</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class QuotaAuthorities(Func<QuotaScope, IQuotaAuthority> authorityFor, TimeProvider timeProvider)
{
    /// <summary>
    /// The pause before a lease or slot request is sent again because the silo hosting the authority went away: long
    /// enough for this silo's grain directory to learn of it, so the second call activates the authority on a silo
    /// that remains (it resumes from its record).
    /// </summary>
    public static readonly TimeSpan SiloLostPause = TimeSpan.FromMilliseconds(100);

    private long _leaseCalls;
    private long _settlementCalls;

    /// <summary>This silo's holder id, as the authorities know it.</summary>
    public string HolderId { get; } = Guid.NewGuid().ToString("n");

    /// <summary>Lease and slot requests sent since start.</summary>
    public long LeaseCalls => Interlocked.Read(ref _leaseCalls);

    /// <summary>Settlements sent since start.</summary>
    public long SettlementCalls => Interlocked.Read(ref _settlementCalls);

    public IQuotaAuthority For(QuotaScope scope) => authorityFor(scope);

    /// <summary>Asks the scope's authority for a lease, once more if its silo went away before answering.</summary>
    public Task<LeaseGrant> AcquireLeaseAsync(QuotaScope scope, LeaseRequest request, CancellationToken cancellationToken) =>
        CallAsync(scope, (authority, ct) => authority.AcquireLeaseAsync(request, ct), cancellationToken);

    /// <summary>Asks the scope's authority for concurrency slots, once more if its silo went away before answering.</summary>
    public Task<SlotGrant> LeaseSlotsAsync(QuotaScope scope, SlotRequest request, CancellationToken cancellationToken) =>
        CallAsync(scope, (authority, ct) => authority.LeaseSlotsAsync(request, ct), cancellationToken);

    // A rolling restart moves every authority once; without the second try each move refused the requests in flight
    // with a 429 though the quota was far from spent. A grant the lost silo made and never delivered lapses unused, so
    // asking again can never overrun a limit.
    private async Task<T> CallAsync<T>(QuotaScope scope, Func<IQuotaAuthority, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(authorityFor(scope), cancellationToken).ConfigureAwait(false);
        }
        catch (SiloUnavailableException) when (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(SiloLostPause, timeProvider, cancellationToken).ConfigureAwait(false);
            return await call(authorityFor(scope), cancellationToken).ConfigureAwait(false);
        }
    }

    public void CountLeaseCall() => Interlocked.Increment(ref _leaseCalls);

    public void CountSettlement() => Interlocked.Increment(ref _settlementCalls);
}
