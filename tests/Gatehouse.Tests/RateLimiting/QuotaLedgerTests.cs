using Gatehouse.Grains;
using Gatehouse.RateLimiting;

namespace Gatehouse.Tests.RateLimiting;

public sealed class QuotaLedgerTests
{
    // Created one window before Start, so the start-up blackout is over when the tests begin.
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static QuotaLedger Ledger(int? rpm = 600, int? tpm = null, double share = 1.0) => new(rpm, tpm, share, Start.AddSeconds(-1));

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
    public void Acquire_FreshLedger_GrantsNothingForOneWindowLength()
    {
        var ledger = new QuotaLedger(600, null, 1.0, Start + TimeSpan.FromSeconds(1));

        var refused = ledger.Acquire(Ask(), Start.AddMilliseconds(999), out _);
        var granted = ledger.Acquire(Ask(), Start.AddSeconds(1), out _);

        Assert.False(refused!.Granted);
        Assert.Equal(TimeSpan.FromMilliseconds(1), refused.RetryAfter);
        Assert.True(granted!.Granted);
    }

    [Fact]
    public void Acquire_BatchWanted_IsCappedByTheShareOfTheWindowBudget()
    {
        var ledger = Ledger(rpm: 6_000, share: 0.25);

        var grant = ledger.Acquire(Ask(wanted: 500), Start.AddMilliseconds(100), out _)!;

        Assert.Equal(25, grant.Requests);
        Assert.Equal(TimeSpan.FromMilliseconds(900), grant.ValidFor);
        Assert.Equal(6_000 - 25, grant.RequestsRemaining);
    }

    [Fact]
    public void Acquire_BucketEmptyAndNoWait_ReturnsRetryAfterUntilTheNextWindow()
    {
        var ledger = Ledger(rpm: 600);
        ledger.Acquire(Ask(wanted: 10), Start, out _);

        var refused = ledger.Acquire(Ask(), Start.AddMilliseconds(300), out var waiter);

        Assert.Null(waiter);
        Assert.False(refused!.Granted);
        Assert.Equal(TimeSpan.FromMilliseconds(700), refused.RetryAfter);
    }

    [Fact]
    public void Pump_WaiterPastDeadline_GetsExhaustedWithTimeToNextWindow()
    {
        var ledger = Ledger(rpm: 60);
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
        var ledger = Ledger(rpm: 120); // 2 per second
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
        var ledger = Ledger(rpm: 120);
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
        var ledger = Ledger(rpm: 120);
        ledger.Acquire(Ask(wanted: 2), Start, out _);
        ledger.Acquire(Ask(priority: RequestPriority.High, waitMs: 5_000), Start.AddMilliseconds(10), out var high);

        // The next window has refilled, but the high-priority waiter has not been pumped yet.
        var late = ledger.Acquire(Ask(priority: RequestPriority.Low, waitMs: 5_000), Start.AddSeconds(1), out var low);

        Assert.Null(late);
        ledger.Pump(Start.AddSeconds(1));
        Assert.True(Completed(high!).Granted);
        Assert.True(Completed(low!).Granted);
    }

    [Fact]
    public void Settle_ReturnedUnitsInTheSameWindow_LetAWaiterThrough()
    {
        var ledger = Ledger(rpm: 600);
        var batch = ledger.Acquire(Ask(wanted: 10), Start, out _)!;
        ledger.Acquire(Ask(app: "b", waitMs: 500), Start.AddMilliseconds(100), out var waiter);

        ledger.Settle(new LeaseSettlement { GrantedAtTicks = batch.GrantedAtTicks, RequestsReturned = 3 }, Start.AddMilliseconds(200));
        ledger.Pump(Start.AddMilliseconds(200));

        Assert.True(Completed(waiter!).Granted);
    }

    [Fact]
    public void Settle_TokensOwed_AreDebitedFromTheNextWindow()
    {
        var ledger = Ledger(rpm: null, tpm: 6_000);
        ledger.Acquire(Ask(tokens: 100), Start, out _);

        ledger.Settle(new LeaseSettlement { TokensOwed = 50 }, Start.AddMilliseconds(500));
        var next = ledger.Acquire(Ask(tokens: 60), Start.AddSeconds(1), out _);

        Assert.False(next!.Granted);
        Assert.True(ledger.Acquire(Ask(tokens: 50), Start.AddSeconds(1), out _)!.Granted);
    }
}
