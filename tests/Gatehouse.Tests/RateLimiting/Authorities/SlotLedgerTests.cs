using Gatehouse.Grains;
using Gatehouse.RateLimiting.Authorities;

namespace Gatehouse.Tests.RateLimiting.Authorities;

public sealed class SlotLedgerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);

    private static SlotRequest Want(string holder, int wanted, int needed, int? inFlight = null) =>
        new() { HolderId = holder, Wanted = wanted, Needed = needed, InFlight = inFlight ?? Math.Max(0, needed - 1) };

    [Fact]
    public void Lease_TwoHoldersAskingForMoreThanTheCap_SecondGetsWhatIsLeft()
    {
        var ledger = new SlotLedger(limit: 4, Ttl, Grace);

        var first = ledger.Lease(Want("a", 3, 1), Start);
        var second = ledger.Lease(Want("b", 3, 1), Start);

        Assert.Equal(3, first.Held);
        Assert.Equal(1, second.Held);
        Assert.Equal(Ttl, second.ValidFor);
    }

    [Fact]
    public void Lease_NoSlotLeft_RefusesTheExtraSlotAndKeepsTheOnesInFlight()
    {
        var ledger = new SlotLedger(limit: 2, Ttl, Grace);
        ledger.Lease(Want("a", 1, 1), Start);
        ledger.Lease(Want("b", 1, 1), Start);

        var refused = ledger.Lease(Want("b", 2, 2), Start);

        Assert.Equal(1, refused.Held);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public void Lease_HolderStoppedRenewing_ItsSlotsComeBackOnlyAfterExpiryPlusGrace()
    {
        var ledger = new SlotLedger(limit: 2, Ttl, Grace);
        ledger.Lease(Want("dead", 2, 2), Start);

        Assert.Equal(0, ledger.Lease(Want("live", 1, 1), Start + Ttl + Grace - TimeSpan.FromTicks(1)).Held);
        Assert.Equal(2, ledger.Lease(Want("live", 2, 1), Start + Ttl + Grace).Held);
    }

    [Fact]
    public void Lease_RenewalWithFewerWanted_GivesIdleSlotsBack()
    {
        var ledger = new SlotLedger(limit: 4, Ttl, Grace);
        ledger.Lease(Want("a", 4, 1), Start);

        ledger.Lease(Want("a", 1, 1), Start.AddSeconds(5));

        Assert.Equal(3, ledger.Lease(Want("b", 3, 1), Start.AddSeconds(5)).Held);
    }

    [Fact]
    public void Lease_SqueezedRenewal_KeepsEverySlotInFlight()
    {
        var ledger = new SlotLedger(limit: 2, Ttl, Grace);
        ledger.Lease(Want("a", 2, 2), Start);
        ledger.Lease(Want("a", 0, 0, inFlight: 0), Start.AddSeconds(1));
        ledger.Lease(Want("b", 2, 1), Start.AddSeconds(1));

        // "a" still has one call under way from before it gave its slots back: the renewal may not take it away.
        var renewal = ledger.Lease(Want("a", 1, 1, inFlight: 1), Start.AddSeconds(2));

        Assert.Equal(1, renewal.Held);
    }

    [Fact]
    public void Lease_ThreeHoldersFirstCallEachAtACapOfThree_EveryHolderGetsOne()
    {
        var ledger = new SlotLedger(limit: 3, Ttl, Grace, maxBatchShare: 0.25);

        var held = new[] { "a", "b", "c" }.Select(holder => ledger.Lease(Want(holder, 2, 1), Start).Held).ToList();

        Assert.Equal([1, 1, 1], held);
    }

    [Fact]
    public void Lease_AnswerCarriesTheRequestsSequence()
    {
        var ledger = new SlotLedger(limit: 2, Ttl, Grace);

        Assert.Equal(7, ledger.Lease(Want("a", 1, 1) with { Sequence = 7 }, Start).Sequence);
    }

    [Fact]
    public void Restore_HoldersOfAnEarlierActivation_CountAgainstTheCap()
    {
        var first = new SlotLedger(limit: 2, Ttl, Grace);
        first.Lease(Want("a", 2, 2), Start);

        var next = new SlotLedger(limit: 2, Ttl, Grace);
        next.Restore(first.ToRecord());

        Assert.Equal(0, next.Lease(Want("b", 2, 1), Start.AddSeconds(1)).Held);
        Assert.Equal(2, next.Lease(Want("b", 2, 1), Start + Ttl + Grace).Held);
    }
}
