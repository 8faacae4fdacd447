using Gatehouse.Grains;

namespace Gatehouse.RateLimiting;

/// <summary>This silo's way to the quota authorities: the holder id they know it by, and the count of calls made to them.</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class QuotaAuthorities(Func<QuotaScope, IQuotaAuthority> authorityFor)
{
    private long _leaseCalls;
    private long _settlementCalls;

    /// <summary>This silo's holder id, as the authorities know it.</summary>
    public string HolderId { get; } = Guid.NewGuid().ToString("n");

    /// <summary>Lease and slot requests sent since start.</summary>
    public long LeaseCalls => Interlocked.Read(ref _leaseCalls);

    /// <summary>Settlements sent since start.</summary>
    public long SettlementCalls => Interlocked.Read(ref _settlementCalls);

    public IQuotaAuthority For(QuotaScope scope) => authorityFor(scope);

    public void CountLeaseCall() => Interlocked.Increment(ref _leaseCalls);

    public void CountSettlement() => Interlocked.Increment(ref _settlementCalls);
}
