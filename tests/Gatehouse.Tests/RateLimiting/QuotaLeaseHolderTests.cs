using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.RateLimiting;

public sealed class QuotaLeaseHolderTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private (QuotaLeaseHolder Holder, LedgerAuthority Authority) Create(QuotaScope scope, int marginMs = 20, double share = 1.0)
    {
        var authority = new LedgerAuthority(new QuotaLedger(scope.RequestsPerMinute, scope.TokensPerMinute, share), _time);
        var options = new RateLimitOptions { LeaseSafetyMarginMs = marginMs };
        return (new QuotaLeaseHolder(_ => authority, _time, options, NullLogger.Instance), authority);
    }

    private static ValueTask<QuotaLease> Take(QuotaLeaseHolder holder, QuotaScope scope, int tokens = 0, int waitMs = 0) =>
        holder.Rates.AcquireAsync(new QuotaDemand(scope, tokens, "app", RequestPriority.Normal, TimeSpan.FromMilliseconds(waitMs)), CancellationToken.None);

    [Fact]
    public async Task AcquireAsync_DemandFromThePreviousSecond_SizesTheBatchSoTheAuthorityIsRarelyCalled()
    {
        var scope = new QuotaScope(QuotaScopeKind.Provider, "p", 60_000, null);
        var (holder, authority) = Create(scope);

        for (var i = 0; i < 100; i++)
        {
            Assert.True((await Take(holder, scope)).IsAcquired);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        var before = authority.Calls;
        for (var i = 0; i < 100; i++)
        {
            Assert.True((await Take(holder, scope)).IsAcquired);
        }

        // The second second's 100 requests came from one batch sized by the first second's demand.
        Assert.Equal(1, authority.Calls - before);
        Assert.Equal(holder.AuthorityCalls, authority.Calls);
    }

    [Fact]
    public async Task AcquireAsync_LeaseNearWindowEnd_ExpiresBeforeTheWindowEvenWithNetworkDelay()
    {
        var scope = new QuotaScope(QuotaScopeKind.Provider, "p", 6_000, null);
        var (holder, authority) = Create(scope, marginMs: 20);
        for (var i = 0; i < 10; i++)
        {
            await Take(holder, scope);
        }

        _time.Advance(TimeSpan.FromMilliseconds(1_500));
        authority.Latency = TimeSpan.FromMilliseconds(100);

        // Sent at 1,500 ms; answered at 1,600 ms with 400 ms left in the window: usable until 1,500 + 400 − 20 = 1,880 ms.
        Assert.True((await Take(holder, scope)).IsAcquired);
        authority.Latency = TimeSpan.Zero;
        var calls = authority.Calls;
        _time.Advance(TimeSpan.FromMilliseconds(279));
        Assert.True((await Take(holder, scope)).IsAcquired);
        Assert.Equal(calls, authority.Calls);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await Take(holder, scope)).IsAcquired);
        Assert.Equal(calls + 1, authority.Calls);
    }

    [Fact]
    public async Task AcquireAsync_AuthorityExhausted_ReturnsRetryAfterToTheNextWindow()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var (holder, _) = Create(scope);
        Assert.True((await Take(holder, scope)).IsAcquired);
        _time.Advance(TimeSpan.FromMilliseconds(250));

        var refused = await Take(holder, scope);

        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromMilliseconds(750), refused.RetryAfter);
    }

    [Fact]
    public async Task AcquireAsync_BucketEmptyWithMaxWait_IsGrantedWhenTheWindowRefills()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var (holder, authority) = Create(scope);
        Assert.True((await Take(holder, scope)).IsAcquired);

        var waiting = Take(holder, scope, waitMs: 2_000).AsTask();
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        authority.Pump();

        var ticket = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(ticket.IsAcquired);
    }

    [Fact]
    public async Task Reconcile_UsageBelowTheEstimate_CreditsTheLocalLease()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", null, 6_000);
        var (holder, authority) = Create(scope);
        var ticket = await Take(holder, scope, tokens: 100);
        Assert.False((await Take(holder, scope, tokens: 30)).IsAcquired);

        holder.Rates.Reconcile(ticket, actualTokens: 60);

        var calls = authority.Calls;
        Assert.True((await Take(holder, scope, tokens: 30)).IsAcquired);
        Assert.Equal(calls, authority.Calls);
    }

    [Fact]
    public async Task Reconcile_UsageAboveTheEstimateAfterTheLeaseExpired_IsOwedToTheAuthority()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", null, 6_000);
        var (holder, authority) = Create(scope);
        var ticket = await Take(holder, scope, tokens: 50);
        _time.Advance(TimeSpan.FromSeconds(1));

        holder.Rates.Reconcile(ticket, actualTokens: 130);
        await holder.FlushAsync(CancellationToken.None);

        Assert.Equal(80, authority.Settlements.Single().TokensOwed);
        // The next window pays the 80 owed tokens first: only 20 are left in it.
        Assert.False((await Take(holder, scope, tokens: 21)).IsAcquired);
        Assert.True((await Take(holder, scope, tokens: 20)).IsAcquired);
    }

    [Fact]
    public async Task ReturnAllAsync_UnusedUnits_AreHandedBackAgainstTheGrantTheyCameFrom()
    {
        var scope = new QuotaScope(QuotaScopeKind.Provider, "p", 600, null);
        var (holder, authority) = Create(scope);
        holder.Rates.Reconcile(await Take(holder, scope), 0);
        for (var i = 0; i < 5; i++)
        {
            await Take(holder, scope);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 4; i++)
        {
            await Take(holder, scope);
        }

        await holder.ReturnAllAsync(CancellationToken.None);

        // The last batch was 6 (last second's demand) and 4 were used: 2 go back against it. Whatever the earlier
        // batches left goes back too, against theirs: every unit granted is either used or returned.
        var last = authority.Grants[^1];
        Assert.Equal(6, last.Requests);
        Assert.Equal(2, authority.Settlements.Single(s => s.GrantedAtTicks == last.GrantedAtTicks).RequestsReturned);
        Assert.Equal(authority.Grants.Sum(g => g.Requests) - 10, authority.Settlements.Sum(s => s.RequestsReturned));
    }

    [Fact]
    public async Task FlushAsync_LeaseExpiredWithUnitsLeft_HandsThemBackAgainstTheirGrant()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 600, 6_000);
        var authority = new BatchAuthority(requests: 5, tokens: 500);
        var holder = new QuotaLeaseHolder(_ => authority, _time, new RateLimitOptions(), NullLogger.Instance);
        await Take(holder, scope, tokens: 100);
        await Take(holder, scope, tokens: 100);

        _time.Advance(TimeSpan.FromSeconds(1));
        await holder.FlushAsync(CancellationToken.None);

        var returned = Assert.Single(authority.Settlements);
        Assert.Equal(1, returned.GrantedAtTicks);
        Assert.Equal(3, returned.RequestsReturned);
        Assert.Equal(300, returned.TokensReturned);
        Assert.Equal(1, holder.SettlementCalls);
    }

    [Fact]
    public async Task AcquireAsync_RefillAfterTheLeaseExpired_HandsTheOldBatchLeftoverBack()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 600, null);
        var authority = new BatchAuthority(requests: 5, tokens: 0);
        var holder = new QuotaLeaseHolder(_ => authority, _time, new RateLimitOptions(), NullLogger.Instance);
        await Take(holder, scope);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await Take(holder, scope)).IsAcquired);
        await holder.FlushAsync(CancellationToken.None);

        Assert.Equal(2, authority.Calls);
        var returned = Assert.Single(authority.Settlements);
        Assert.Equal(1, returned.GrantedAtTicks);
        Assert.Equal(4, returned.RequestsReturned);
    }

    [Fact]
    public async Task Snapshot_AfterAGrant_IsTheAuthorityRemainingPlusTheUnusedLease()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 600, null);
        var (holder, _) = Create(scope);
        for (var i = 0; i < 3; i++)
        {
            await Take(holder, scope);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        await Take(holder, scope); // batch of 3 (last second's demand): authority has 600 − 1 − 1 − 1 − 3 = 594 left

        var snapshot = holder.Rates.Snapshot(scope)!;

        Assert.Equal(600, snapshot.RequestsLimit);
        Assert.Equal(594 + 2, snapshot.RequestsRemaining);
        Assert.Null(snapshot.TokensLimit);
    }

    /// <summary>An in-process authority over a real <see cref="QuotaLedger"/>, on the test's fake clock.</summary>
    private sealed class LedgerAuthority(QuotaLedger ledger, FakeTimeProvider time) : IQuotaAuthority
    {
        public QuotaLedger Ledger { get; } = ledger;

        public int Calls { get; private set; }

        public TimeSpan Latency { get; set; }

        public List<LeaseSettlement> Settlements { get; } = [];

        /// <summary>The grants answered at once (not those of queued requests).</summary>
        public List<LeaseGrant> Grants { get; } = [];

        public void Pump() => Ledger.Pump(time.GetUtcNow());

        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
        {
            Calls++;
            time.Advance(Latency);
            if (Ledger.Acquire(request, time.GetUtcNow(), out var waiter) is { } grant)
            {
                Grants.Add(grant);
                return Task.FromResult(grant);
            }

            return waiter!.Task;
        }

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default)
        {
            Settlements.Add(settlement);
            Ledger.Settle(settlement, time.GetUtcNow());
            return ValueTask.CompletedTask;
        }

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    /// <summary>Grants the same batch, valid for one second, to every request; numbers the grants 1, 2, … in <c>GrantedAtTicks</c>.</summary>
    private sealed class BatchAuthority(int requests, int tokens) : IQuotaAuthority
    {
        public int Calls { get; private set; }

        public List<LeaseSettlement> Settlements { get; } = [];

        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) =>
            Task.FromResult(new LeaseGrant
            {
                Granted = true,
                GrantedAtTicks = ++Calls,
                Requests = requests,
                Tokens = tokens,
                ValidFor = TimeSpan.FromSeconds(1),
            });

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default)
        {
            Settlements.Add(settlement);
            return ValueTask.CompletedTask;
        }

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
