using System.Threading.RateLimiting;
using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;

namespace Gatehouse.Tests.RateLimiting.Leases;

/// <summary>Concurrency slots through the silo's <see cref="ConcurrencyLimiter"/>, against a callback authority.</summary>
public sealed class SlotLeaseTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly SlotAuthority _authority = new();
    private readonly QuotaLeaseHolder _holder;

    public SlotLeaseTests()
    {
        _holder = new QuotaLeaseHolder(_ => _authority, _time, new RateLimitOptions(), NullLogger.Instance);
    }

    // The cap that counts is the authority's (SlotAuthority.Cap); the scope only says there is one.
    private static readonly QuotaScope Scope = new(QuotaScopeKind.Provider, "p", null, null, MaxConcurrency: 1);

    private ValueTask<SlotLease> Take(RequestPriority priority = RequestPriority.Normal, int waitMs = 0) =>
        _holder.Slots.AcquireAsync(new SlotDemand(Scope, priority, TimeSpan.FromMilliseconds(waitMs)), CancellationToken.None);

    [Fact]
    public async Task AcquireAsync_CapReachedNoWait_IsRefusedWithRetryAfter()
    {
        using var first = await Take();

        using var second = await Take();

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
    }

    [Fact]
    public async Task AcquireAsync_AuthoritySiloWentAwayOnce_AskedAgainAfterAPause_SlotGranted()
    {
        _authority.Answer = request => _authority.Requests.Count == 1
            ? Task.FromException<SlotGrant>(new SiloUnavailableException("the authority's silo is shutting down"))
            : _authority.Grant(request);

        var taking = Take(waitMs: 1_000).AsTask();
        Assert.False(taking.IsCompleted);
        _time.Advance(QuotaAuthorities.SiloLostPause);

        using var lease = await taking.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(lease.IsAcquired);
        Assert.Equal(2, _authority.Requests.Count);
    }

    [Fact]
    public async Task AcquireAsync_SlotReleased_GoesToTheHighestPriorityWaiter()
    {
        var first = await Take();
        var low = Take(RequestPriority.Low, waitMs: 5_000).AsTask();
        var high = Take(RequestPriority.High, waitMs: 5_000).AsTask();
        Assert.False(low.IsCompleted);
        Assert.False(high.IsCompleted);

        first.Dispose();

        var served = await high.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(served.IsAcquired);
        Assert.False(low.IsCompleted);
        served.Dispose();
        Assert.True((await low.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_NoSlotBeforeMaxWait_IsRefusedOnTime()
    {
        using var first = await Take();
        var waiting = Take(waitMs: 300).AsTask();

        _time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False((await waiting.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_SaturatedSiloManyWaiters_SharesOneAuthorityRequestServedByPriority()
    {
        using var first = await Take();
        var answer = new TaskCompletionSource<SlotGrant>(TaskCreationOptions.RunContinuationsAsynchronously);
        _authority.Answer = request => request.Sequence == 2 ? answer.Task : _authority.Grant(request);

        var low = Take(RequestPriority.Low, waitMs: 5_000).AsTask();
        var normal = Take(RequestPriority.Normal, waitMs: 5_000).AsTask();
        var high = Take(RequestPriority.High, waitMs: 5_000).AsTask();
        var laterNormal = Take(RequestPriority.Normal, waitMs: 5_000).AsTask();

        // One request for the first caller's slot, one shared by the four waiters.
        Assert.Equal(2, _authority.Requests.Count);
        Assert.Equal(1, _authority.Requests[1].InFlight);

        // Two more slots (three held, one in flight): the two highest priority, first come first among equals.
        _authority.Cap = 3;
        answer.SetResult(new SlotGrant { Held = 3, ValidFor = Ttl, Limit = 10, Sequence = 2 });

        Assert.True((await high.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
        Assert.True((await normal.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
        Assert.False(laterNormal.IsCompleted);
        Assert.False(low.IsCompleted);
    }

    [Fact]
    public async Task RenewAsync_CapSqueezedByOtherSilos_KeepsTheSlotsInFlight()
    {
        _authority.Cap = 2;
        using var first = await Take();
        var second = await Take();
        Assert.True(second.IsAcquired);
        var calls = _authority.Requests.Count;

        // Another silo took the whole cap meanwhile (it does not know ours are in use).
        _authority.Others = 2;
        _time.Advance(Ttl / 2);
        await _holder.FlushAsync(CancellationToken.None);

        var renewal = _authority.Requests[^1];
        Assert.Equal(calls + 1, _authority.Requests.Count);
        Assert.Equal(2, renewal.InFlight);
        Assert.True(renewal.Wanted >= 2);
        // Both slots are still this silo's: one released is at once free for the next call here.
        second.Dispose();
        using var third = await Take();
        Assert.True(third.IsAcquired);
        Assert.Equal(calls + 1, _authority.Requests.Count);
    }

    [Fact]
    public void Apply_AnswerToAnOlderRequestArrivesLast_IsIgnored()
    {
        var pool = new SlotPool(Scope, _time);
        var older = pool.NextRequest("holder", wanted: 3, needed: 1);
        var newer = pool.NextRequest("holder", wanted: 1, needed: 1);

        Assert.True(pool.Apply(newer, new SlotGrant { Held = 1, ValidFor = Ttl, Sequence = newer.Sequence }, _time.GetTimestamp(), TimeSpan.Zero));
        Assert.False(pool.Apply(older, new SlotGrant { Held = 3, ValidFor = Ttl, Sequence = older.Sequence }, _time.GetTimestamp(), TimeSpan.Zero));

        Assert.Equal(1, pool.Held);
        Assert.True(newer.Sequence > older.Sequence);
    }

    /// <summary>An authority with the slot semantics of the contract: <c>max(InFlight, min(Wanted, cap − others))</c>.</summary>
    private sealed class SlotAuthority : IQuotaAuthority
    {
        public int? Cap { get; set; } = 1;

        public int Others { get; set; }

        public List<SlotRequest> Requests { get; } = [];

        public Func<SlotRequest, Task<SlotGrant>>? Answer { get; set; }

        public Task<SlotGrant> Grant(SlotRequest request)
        {
            var cap = Cap ?? int.MaxValue;
            var held = Math.Max(request.InFlight, Math.Min(request.Wanted, Math.Max(0, cap - Others)));
            return Task.FromResult(new SlotGrant { Held = held, ValidFor = Ttl, Limit = Cap, Sequence = request.Sequence });
        }

        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default)
        {
            Requests.Add(request);
            return Answer?.Invoke(request) ?? Grant(request);
        }
    }
}
