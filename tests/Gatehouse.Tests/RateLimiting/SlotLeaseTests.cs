using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.RateLimiting;

/// <summary>Concurrency slots through the silo's lease holder, against an in-process <see cref="SlotLedger"/>.</summary>
public sealed class SlotLeaseTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly QuotaScope Scope = new(QuotaScopeKind.Provider, "p", null, null, MaxConcurrency: 1);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly QuotaLeaseHolder _holder;

    public SlotLeaseTests()
    {
        var authority = new SlotAuthority(new SlotLedger(1, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)), _time);
        _holder = new QuotaLeaseHolder(_ => authority, _time, new RateLimitOptions(), NullLogger.Instance);
    }

    private ValueTask<SlotTicket?> Take(RequestPriority priority = RequestPriority.Normal, int waitMs = 0) =>
        _holder.AcquireSlotAsync(Scope, priority, TimeSpan.FromMilliseconds(waitMs), CancellationToken.None);

    [Fact]
    public async Task AcquireSlotAsync_CapReachedNoWait_ReturnsNull()
    {
        using var first = await Take();

        Assert.NotNull(first);
        Assert.Null(await Take());
    }

    [Fact]
    public async Task AcquireSlotAsync_SlotReleased_GoesToTheHighestPriorityWaiter()
    {
        var first = (await Take())!;
        var low = Take(RequestPriority.Low, waitMs: 5_000).AsTask();
        var high = Take(RequestPriority.High, waitMs: 5_000).AsTask();
        Assert.False(low.IsCompleted);
        Assert.False(high.IsCompleted);

        first.Dispose();

        var served = await high.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(served);
        Assert.False(low.IsCompleted);
        served.Dispose();
        Assert.NotNull(await low.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AcquireSlotAsync_NoSlotBeforeMaxWait_ReturnsNullOnTime()
    {
        using var first = await Take();
        var waiting = Take(waitMs: 300).AsTask();

        _time.Advance(TimeSpan.FromMilliseconds(300));

        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private sealed class SlotAuthority(SlotLedger ledger, FakeTimeProvider time) : IQuotaAuthority
    {
        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
            Task.FromResult(ledger.Lease(request, time.GetUtcNow()));
    }
}
