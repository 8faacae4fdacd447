using Gatehouse.Grains;
using Gatehouse.RateLimiting.Authorities;

namespace Gatehouse.Tests.RateLimiting.Authorities;

public sealed class QuotaLedgerTests
{
    // On a whole second: slots are UTC-aligned seconds.
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static QuotaLedger Ledger(int? rpm = 600, int? tpm = null, double share = 1.0, int? burst = null) => new(rpm, tpm, share, burst);

    private static LeaseRequest Ask(string app = "a", RequestPriority priority = RequestPriority.Normal, int wanted = 1, int tokens = 0, int waitMs = 0) => new()
    {
        HolderId = "silo",
        AppId = app,
        Priority = priority,
        RequestsNeeded = 1,
        RequestsWanted = wanted,
        TokensNeeded = tokens,
        TokensWanted = tokens,
        MaxWait = TimeSpan.FromMilliseconds(waitMs),
    };

    /// <summary>The answer a waiter already got (the ledger completes waiters synchronously in Pump).</summary>
    private static LeaseGrant Completed(QuotaWaiter waiter)
    {
        Assert.True(waiter.Task.IsCompletedSuccessfully, "the waiter was not answered by Pump");
#pragma warning disable xUnit1031 // Completed above: reading the result cannot block.
        return waiter.Task.Result;
#pragma warning restore xUnit1031
    }

    [Fact]
    public void Acquire_FreshLedger_GrantsTheFirstRequestAtOnce()
    {
        var granted = Ledger(rpm: 5).Acquire(Ask(), Start, out var waiter);

        Assert.Null(waiter);
        Assert.True(granted!.Granted);
        Assert.Equal(4, granted.RequestsRemaining);
    }

    [Fact]
    public void Acquire_FullBucket_AdmitsABurstOfTheWholeLimitThenRefusesUntilTheFirstUnitAgesOut()
    {
        var ledger = Ledger(rpm: 5);

        var burst = Enumerable.Range(0, 5).Select(i => ledger.Acquire(Ask(), Start.AddMilliseconds(100 + i), out _)!).ToList();
        var sixth = ledger.Acquire(Ask(), Start.AddMilliseconds(200), out _)!;

        Assert.All(burst, grant => Assert.True(grant.Granted));
        Assert.False(sixth.Granted);
        // Leased in slot 0 and usable until its end, a unit counts until 61 s after Start.
        Assert.Equal(TimeSpan.FromSeconds(61) - TimeSpan.FromMilliseconds(200), sixth.RetryAfter);
        Assert.Equal(0, sixth.RequestsRemaining);
    }

    [Fact]
    public void Acquire_UnitsOfAFullMinute_AreGrantableAgainOnlyAfterTheSlotTheyWereLeasedInPlusSixtySeconds()
    {
        var ledger = Ledger(rpm: 5);
        ledger.Acquire(Ask(wanted: 5), Start.AddMilliseconds(500), out _);

        Assert.False(ledger.Acquire(Ask(), Start.AddSeconds(61) - TimeSpan.FromTicks(1), out _)!.Granted);
        Assert.True(ledger.Acquire(Ask(), Start.AddSeconds(61), out _)!.Granted);
    }

    [Fact]
    public void Acquire_ConfiguredBurst_AdmitsThatManyAtOnceAndRefillsAtTheLimitsRate()
    {
        var ledger = Ledger(rpm: 60, burst: 2);

        Assert.True(ledger.Acquire(Ask(), Start, out _)!.Granted);
        Assert.True(ledger.Acquire(Ask(), Start, out _)!.Granted);
        var third = ledger.Acquire(Ask(), Start, out _)!;

        Assert.False(third.Granted);
        Assert.Equal(TimeSpan.FromSeconds(1), third.RetryAfter);
        Assert.True(ledger.Acquire(Ask(), Start.AddSeconds(1), out _)!.Granted);
    }

    [Fact]
    public void Acquire_BatchWanted_IsCappedByTheShareOfTheBurst()
    {
        var ledger = Ledger(rpm: 6_000, share: 0.25);

        var grant = ledger.Acquire(Ask(wanted: 5_000), Start.AddMilliseconds(100), out _)!;

        Assert.Equal(1_500, grant.Requests);
        Assert.Equal(TimeSpan.FromMilliseconds(900), grant.ValidFor);
        Assert.Equal(6_000 - 1_500, grant.RequestsRemaining);
    }

    [Fact]
    public void Acquire_MoreCallersWaitingOnTheSiloThanTheBatchCap_CoversThemAll()
    {
        var ledger = Ledger(rpm: 5, share: 0.25);

        var grant = ledger.Acquire(Ask(wanted: 1) with { RequestsWaiting = 5 }, Start, out _)!;

        Assert.Equal(5, grant.Requests);
    }

    [Fact]
    public void Acquire_SlotEndingWithinTheHoldersMargin_GrantsForTheNextSlotAtOnce()
    {
        var ledger = Ledger(rpm: 1);
        var nearTheEnd = Ask() with { MinValidity = TimeSpan.FromMilliseconds(40) };

        var grant = ledger.Acquire(nearTheEnd, Start.AddMilliseconds(970), out var waiter);
        var next = ledger.Acquire(Ask(), Start.AddSeconds(5), out _)!;

        Assert.Null(waiter);
        Assert.True(grant!.Granted);
        Assert.Equal(TimeSpan.FromMilliseconds(1_030), grant.ValidFor);
        // Usable until the end of slot 1, the unit counts until 61 s after that slot starts.
        Assert.Equal(TimeSpan.FromSeconds(62 - 5), next.RetryAfter);
        Assert.True(ledger.Acquire(Ask(), Start.AddSeconds(62), out _)!.Granted);
    }

    [Fact]
    public void Restore_RecordWithUnitsForTheNextSlot_KeepsThemCounted()
    {
        var first = Ledger(rpm: 2);
        first.Acquire(Ask(wanted: 2) with { MinValidity = TimeSpan.FromMilliseconds(40) }, Start.AddMilliseconds(990), out _);

        var next = Ledger(rpm: 2);
        next.Restore(first.ToRecord(Start.AddMilliseconds(995)), Start.AddSeconds(1));

        Assert.False(next.Acquire(Ask(), Start.AddSeconds(61.5), out _)!.Granted);
        Assert.True(next.Acquire(Ask(), Start.AddSeconds(62), out _)!.Granted);
    }

    [Fact]
    public void Pump_WaiterPastDeadline_GetsExhaustedWithTimeToTheNextUnit()
    {
        var ledger = Ledger(rpm: 60, burst: 1);
        ledger.Acquire(Ask(), Start, out _);
        Assert.Null(ledger.Acquire(Ask(waitMs: 200), Start.AddMilliseconds(100), out var waiter));

        Assert.Equal(Start.AddMilliseconds(300), ledger.NextWakeUp(Start.AddMilliseconds(100)));
        ledger.Pump(Start.AddMilliseconds(300));

        var answer = Completed(waiter!);
        Assert.False(answer.Granted);
        Assert.Equal(TimeSpan.FromMilliseconds(700), answer.RetryAfter);
        Assert.Equal(0, ledger.Waiting);
    }

    [Fact]
    public void Pump_Refill_ServesHighPriorityWaitersBeforeLowOnes()
    {
        var ledger = Ledger(rpm: 120, burst: 2); // 2 per second once the burst is spent
        ledger.Acquire(Ask(wanted: 2), Start, out _);
        var waiters = new[]
        {
            ("low-1", RequestPriority.Low), ("normal-1", RequestPriority.Normal), ("high-1", RequestPriority.High),
            ("low-2", RequestPriority.Low), ("high-2", RequestPriority.High),
        }.Select(w =>
        {
            Assert.Null(ledger.Acquire(Ask(app: w.Item1, priority: w.Item2, waitMs: 5_000), Start.AddMilliseconds(10), out var waiter));
            return (Name: w.Item1, Waiter: waiter!);
        }).ToList();
        string[] Served() => [.. waiters.Where(w => w.Waiter.Task.IsCompleted).Select(w => w.Name).Order()];

        ledger.Pump(Start.AddSeconds(1));
        Assert.Equal(["high-1", "high-2"], Served());
        ledger.Pump(Start.AddSeconds(2));
        Assert.Equal(["high-1", "high-2", "low-1", "normal-1"], Served());
        ledger.Pump(Start.AddSeconds(3));
        Assert.Equal(["high-1", "high-2", "low-1", "low-2", "normal-1"], Served());
        Assert.All(waiters, w => Assert.True(Completed(w.Waiter).Granted));
    }

    [Fact]
    public void Pump_EqualPriorityApps_AreServedRoundRobinNotFirstComeFirstServed()
    {
        var ledger = Ledger(rpm: 120, burst: 2);
        ledger.Acquire(Ask(wanted: 2), Start, out _);
        // App "greedy" queued three requests before "polite" queued its one.
        var waiters = new[] { "greedy", "greedy", "greedy", "polite" }.Select(app =>
        {
            ledger.Acquire(Ask(app: app, waitMs: 5_000), Start.AddMilliseconds(10), out var waiter);
            return waiter!;
        }).ToList();

        ledger.Pump(Start.AddSeconds(1));

        Assert.Equal([true, false, false, true], waiters.Select(w => w.Task.IsCompleted));
    }

    [Fact]
    public void Acquire_WhileOthersWaitAtHigherPriority_QueuesInsteadOfJumpingAhead()
    {
        var ledger = Ledger(rpm: 120, burst: 2);
        ledger.Acquire(Ask(wanted: 2), Start, out _);
        ledger.Acquire(Ask(priority: RequestPriority.High, waitMs: 5_000), Start.AddMilliseconds(10), out var high);

        // The burst has refilled, but the high-priority waiter has not been pumped yet.
        var late = ledger.Acquire(Ask(priority: RequestPriority.Low, waitMs: 5_000), Start.AddSeconds(1), out var low);

        Assert.Null(late);
        ledger.Pump(Start.AddSeconds(1));
        Assert.True(Completed(high!).Granted);
        Assert.True(Completed(low!).Granted);
    }

    [Fact]
    public void Settle_ReturnedUnits_LetAWaiterThrough()
    {
        var ledger = Ledger(rpm: 60, burst: 10); // refills one unit a second
        var batch = ledger.Acquire(Ask(wanted: 10), Start, out _)!;
        ledger.Acquire(Ask(app: "b", waitMs: 500), Start.AddMilliseconds(100), out var waiter);

        ledger.Settle(new LeaseSettlement { GrantedAtTicks = batch.GrantedAtTicks, RequestsReturned = 3 }, Start.AddMilliseconds(200));
        ledger.Pump(Start.AddMilliseconds(200));

        Assert.True(Completed(waiter!).Granted);
    }

    [Fact]
    public void Settle_UnitsReturnedAfterTheirLeaseExpired_AreCreditedWithinTheMinute()
    {
        var ledger = Ledger(rpm: 5);
        var batch = ledger.Acquire(Ask(wanted: 5), Start, out _)!;

        ledger.Settle(new LeaseSettlement { GrantedAtTicks = batch.GrantedAtTicks, RequestsReturned = 5 }, Start.AddSeconds(10));

        Assert.Equal(5, ledger.Acquire(Ask(wanted: 5), Start.AddSeconds(10), out _)!.Requests);
    }

    [Fact]
    public void Settle_TokensOwed_CountAgainstTheRestOfTheMinute()
    {
        var ledger = Ledger(rpm: null, tpm: 600);
        ledger.Acquire(Ask(tokens: 500), Start, out _);

        ledger.Settle(new LeaseSettlement { TokensOwed = 50 }, Start.AddMilliseconds(500));

        Assert.False(ledger.Acquire(Ask(tokens: 60), Start.AddSeconds(1), out _)!.Granted);
        Assert.True(ledger.Acquire(Ask(tokens: 50), Start.AddSeconds(1), out _)!.Granted);
    }

    [Fact]
    public void Acquire_RequestLargerThanTheWholeLimit_IsAdmittedOnlyIntoAnUntouchedBucket()
    {
        var ledger = Ledger(rpm: null, tpm: 1_000);

        Assert.True(ledger.Acquire(Ask(tokens: 1_500), Start, out _)!.Granted);
        var next = ledger.Acquire(Ask(tokens: 1), Start.AddSeconds(30), out _)!;

        Assert.False(next.Granted);
        Assert.Equal(TimeSpan.FromSeconds(31), next.RetryAfter);
    }

    [Fact]
    public void Restore_RecordOfAnEarlierActivation_ResumesItsCounts()
    {
        var first = Ledger(rpm: 5);
        first.Acquire(Ask(wanted: 4), Start, out _);
        var record = first.ToRecord(Start.AddMilliseconds(500));

        var next = Ledger(rpm: 5);
        next.Restore(record, Start.AddSeconds(2));

        Assert.True(next.Acquire(Ask(), Start.AddSeconds(2), out _)!.Granted);
        Assert.False(next.Acquire(Ask(), Start.AddSeconds(2), out _)!.Granted);
        Assert.True(next.Acquire(Ask(), Start.AddSeconds(61), out _)!.Granted);
    }
}
