using System.Threading.RateLimiting;
using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Authorities;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;

namespace Gatehouse.Tests.RateLimiting.Leases;

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

    private QuotaLeaseHolder Holder(IQuotaAuthority authority) => new(_ => authority, _time, new RateLimitOptions(), NullLogger.Instance);

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
    public async Task AcquireAsync_AuthorityRefuses_ReturnsItsRetryAfter()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var authority = new ScriptedAuthority { OnAcquire = _ => Task.FromResult(new LeaseGrant { Granted = false, RetryAfter = TimeSpan.FromMilliseconds(750) }) };
        var holder = Holder(authority);

        var refused = await Take(holder, scope);

        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromMilliseconds(750), refused.RetryAfter);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(750), retryAfter);
    }

    [Fact]
    public async Task AcquireAsync_AuthoritySiloWentAwayOnce_AskedAgainAfterAPause_Admitted()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var authority = new ScriptedAuthority(requests: 5);
        authority.OnAcquire = _ => authority.Calls == 1
            ? Task.FromException<LeaseGrant>(new SiloUnavailableException("the authority's silo is shutting down"))
            : Task.FromResult(new LeaseGrant { Granted = true, GrantedAtTicks = 1, Requests = 5, ValidFor = TimeSpan.FromSeconds(1) });
        var holder = Holder(authority);

        var taking = Take(holder, scope).AsTask();
        Assert.False(taking.IsCompleted);
        Assert.Equal(1, authority.Calls);
        _time.Advance(QuotaAuthorities.SiloLostPause);

        Assert.True((await taking.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
        Assert.Equal(2, authority.Calls);
    }

    [Fact]
    public async Task AcquireAsync_AuthoritySiloWentAwayTwice_RefusedClosed()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var authority = new ScriptedAuthority { OnAcquire = _ => Task.FromException<LeaseGrant>(new SiloUnavailableException("gone")) };
        var holder = Holder(authority);

        var taking = Take(holder, scope).AsTask();
        _time.Advance(QuotaAuthorities.SiloLostPause);
        var refused = await taking.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(2, authority.Calls);
    }

    [Fact]
    public async Task AcquireAsync_AuthorityFailedOtherwise_NotAskedAgain()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var authority = new ScriptedAuthority { OnAcquire = _ => Task.FromException<LeaseGrant>(new InvalidOperationException("storage")) };
        var holder = Holder(authority);

        var refused = await Take(holder, scope);

        Assert.False(refused.IsAcquired);
        Assert.Equal(1, authority.Calls);
    }

    [Fact]
    public async Task AcquireAsync_AuthorityQueuesTheRequest_WaitersShareItAndAreAdmittedWhenItGrants()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 60, null);
        var answer = new TaskCompletionSource<LeaseGrant>(TaskCreationOptions.RunContinuationsAsynchronously);
        var authority = new ScriptedAuthority { OnAcquire = _ => answer.Task };
        var holder = Holder(authority);

        var first = Take(holder, scope, waitMs: 2_000).AsTask();
        var second = Take(holder, scope, waitMs: 2_000).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        Assert.Equal(TimeSpan.FromMilliseconds(2_000), Assert.Single(authority.Requests).MaxWait);

        answer.SetResult(new LeaseGrant { Granted = true, GrantedAtTicks = 1, Requests = 2, ValidFor = TimeSpan.FromSeconds(1) });

        Assert.True((await first.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
        Assert.True((await second.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
        Assert.Equal(1, authority.Calls);
    }

    [Fact]
    public async Task AcquireAsync_CallersQueuedAfterTheSharedRequestLeft_GetOneFollowUpRequestEvenWithNoWait()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", 5, null);
        var first = new TaskCompletionSource<LeaseGrant>(TaskCreationOptions.RunContinuationsAsynchronously);
        var authority = new ScriptedAuthority
        {
            OnAcquire = async request =>
            {
                if (request.RequestsWaiting == 1)
                {
                    return await first.Task;
                }

                await Task.Yield();
                return new LeaseGrant { Granted = true, GrantedAtTicks = 2, Requests = request.RequestsWaiting, ValidFor = TimeSpan.FromSeconds(1) };
            },
        };
        var holder = Holder(authority);

        // The first caller's request covers only itself; four more queue behind it with no wait of their own.
        var callers = Enumerable.Range(0, 5).Select(_ => Take(holder, scope).AsTask()).ToList();
        first.SetResult(new LeaseGrant { Granted = true, GrantedAtTicks = 1, Requests = 1, ValidFor = TimeSpan.FromSeconds(1) });
        var leases = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(leases, lease => Assert.True(lease.IsAcquired));
        Assert.Equal(2, authority.Calls);
        Assert.Equal(4, authority.Requests[1].RequestsWaiting);
    }

    [Fact]
    public async Task Reconcile_UsageBelowTheEstimate_CreditsTheLocalLease()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", null, 6_000);
        var authority = new ScriptedAuthority(tokens: 100);
        var holder = Holder(authority);
        var admitted = await Take(holder, scope, tokens: 100);
        authority.OnAcquire = _ => Task.FromResult(new LeaseGrant { Granted = false, RetryAfter = TimeSpan.FromSeconds(1) });
        Assert.False((await Take(holder, scope, tokens: 30)).IsAcquired);

        holder.Rates.Reconcile(admitted, actualTokens: 60);

        var calls = authority.Calls;
        Assert.True((await Take(holder, scope, tokens: 30)).IsAcquired);
        Assert.Equal(calls, authority.Calls);
    }

    [Fact]
    public async Task Reconcile_UsageAboveTheEstimateAfterTheLeaseExpired_IsOwedToTheAuthority()
    {
        var scope = new QuotaScope(QuotaScopeKind.App, "a", null, 6_000);
        var authority = new ScriptedAuthority(tokens: 50);
        var holder = Holder(authority);
        var admitted = await Take(holder, scope, tokens: 50);
        _time.Advance(TimeSpan.FromSeconds(1));

        holder.Rates.Reconcile(admitted, actualTokens: 130);
        await holder.FlushAsync(CancellationToken.None);

        var settlement = Assert.Single(authority.Settlements);
        Assert.Equal(80, settlement.TokensOwed);
        Assert.Equal(0, settlement.TokensReturned);
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
        var authority = new ScriptedAuthority(requests: 5, tokens: 500);
        var holder = Holder(authority);
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
        var authority = new ScriptedAuthority(requests: 5);
        var holder = Holder(authority);
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

    /// <summary>
    /// A callback authority: by default grants the same batch, valid for one second, to every request, numbering the
    /// grants 1, 2, … in <c>GrantedAtTicks</c>; <see cref="OnAcquire"/> replaces that answer.
    /// </summary>
    private sealed class ScriptedAuthority(int requests = 0, int tokens = 0) : IQuotaAuthority
    {
        public int Calls { get; private set; }

        public List<LeaseRequest> Requests { get; } = [];

        public List<LeaseSettlement> Settlements { get; } = [];

        public Func<LeaseRequest, Task<LeaseGrant>>? OnAcquire { get; set; }

        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
        {
            Calls++;
            Requests.Add(request);
            return OnAcquire?.Invoke(request) ?? Task.FromResult(new LeaseGrant
            {
                Granted = true,
                GrantedAtTicks = Calls,
                Requests = requests,
                Tokens = tokens,
                ValidFor = TimeSpan.FromSeconds(1),
            });
        }

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default)
        {
            Settlements.Add(settlement);
            return ValueTask.CompletedTask;
        }

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
