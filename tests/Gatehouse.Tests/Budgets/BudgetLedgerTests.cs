using Gatehouse.Budgets;
using Gatehouse.Grains;

namespace Gatehouse.Tests.Budgets;

/// <summary>A budget authority's accounting: grants debited up front, settlements, the UTC day and month, silent holders.</summary>
public sealed class BudgetLedgerTests
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 30, 12, 0, 0, TimeSpan.Zero);

    private static BudgetLedger Ledger(DateTimeOffset now)
    {
        var ledger = new BudgetLedger();
        ledger.Roll(now);
        return ledger;
    }

    [Fact]
    public void Grant_PlentyLeft_GrantsTheNeedAndAtMostAnEighthOfTheRest()
    {
        var ledger = Ledger(Noon);

        var grant = ledger.Grant("silo-a", needed: 1m, wanted: 5m, dayBudget: 10m, monthBudget: null, Noon);

        Assert.True(grant.Granted);
        Assert.Equal(1m + 9m / 8, grant.Amount);
        Assert.Equal(("2026-03-30", new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.Zero)), (grant.Day, grant.DayEndsAt));
        Assert.Equal(grant.Amount, ledger.Spend(Noon).DayReservedUsd);
    }

    [Fact]
    public void Grant_LessLeftThanNeeded_GrantsTheWholeNeedOnceThenRefusesNamingTheDay()
    {
        var ledger = Ledger(Noon);
        ledger.Grant("silo-a", 9.5m, 9.5m, 10m, null, Noon);

        var crossing = ledger.Grant("silo-b", 1m, 1m, 10m, null, Noon);
        var refused = ledger.Grant("silo-a", 0.01m, 0.01m, 10m, null, Noon);

        Assert.Equal((true, 1m), (crossing.Granted, crossing.Amount));
        Assert.False(refused.Granted);
        Assert.Equal(("day", 10m, new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.Zero)), (refused.Period, refused.BudgetUsd, refused.ResetsAt));
        Assert.Equal(10.5m, ledger.Spend(Noon).DayReservedUsd);
    }

    [Fact]
    public void Grant_MonthSpentButNotTheDay_RefusesNamingTheMonthUntilItsFirstDay()
    {
        var ledger = Ledger(Noon);
        ledger.Grant("silo-a", 5m, 5m, 10m, 5m, Noon);

        var refused = ledger.Grant("silo-a", 1m, 1m, 10m, 5m, Noon);

        Assert.Equal(("month", 5m, new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)), (refused.Period, refused.BudgetUsd, refused.ResetsAt));
    }

    [Fact]
    public void Settle_SpentLessThanGranted_SpendIsTheCostAndTheRestIsFreeAgain()
    {
        var ledger = Ledger(Noon);
        var grant = ledger.Grant("silo-a", 2m, 2m, 2m, null, Noon);

        ledger.Settle("silo-a", new BudgetSettlement { Day = grant.Day, Spent = 0.5m, Released = 1.5m });

        var spend = ledger.Spend(Noon);
        Assert.Equal((0.5m, 0m, 0.5m), (spend.DaySpentUsd, spend.DayReservedUsd, spend.MonthSpentUsd));
        Assert.Equal((true, 1.5m), (ledger.Grant("silo-b", 1.5m, 1.5m, 2m, null, Noon) is var g ? (g.Granted, g.Amount) : default));
    }

    [Fact]
    public void Settle_CallCostMoreThanItsGrant_TheDifferenceIsCommittedAsSpend()
    {
        var ledger = Ledger(Noon);
        var grant = ledger.Grant("silo-a", 1m, 1m, 10m, null, Noon);

        ledger.Settle("silo-a", new BudgetSettlement { Day = grant.Day, Spent = 1.5m });

        var spend = ledger.Spend(Noon);
        Assert.Equal((1.5m, 0m), (spend.DaySpentUsd, spend.DayReservedUsd));
    }

    [Fact]
    public void Settle_ReleaseOfMoneyNeverGranted_IsIgnored()
    {
        var ledger = Ledger(Noon);
        ledger.Grant("silo-a", 1m, 1m, 10m, null, Noon);

        ledger.Settle("silo-b", new BudgetSettlement { Day = "2026-03-30", Released = 5m });

        Assert.Equal(1m, ledger.Spend(Noon).DayReservedUsd);
    }

    [Fact]
    public void Roll_NextUtcDay_TheDayStartsAfreshAndYesterdaysCallsCountForTheMonthOnly()
    {
        var ledger = Ledger(Noon);
        var yesterday = ledger.Grant("silo-a", 4m, 4m, 4m, 100m, Noon);
        var tomorrow = Noon.AddDays(1);
        ledger.Touch("silo-a", tomorrow);

        ledger.Roll(tomorrow);
        var fresh = ledger.Grant("silo-a", 4m, 4m, 4m, 100m, tomorrow);
        ledger.Settle("silo-a", new BudgetSettlement { Day = yesterday.Day, Spent = 3m, Released = 1m });

        Assert.Equal((true, "2026-03-31"), (fresh.Granted, fresh.Day));
        var spend = ledger.Spend(tomorrow);
        Assert.Equal((0m, 4m), (spend.DaySpentUsd, spend.DayReservedUsd));
        Assert.Equal((3m, 4m), (spend.MonthSpentUsd, spend.MonthReservedUsd));
    }

    [Fact]
    public void Roll_NextUtcMonth_MonthStartsAfresh()
    {
        var endOfMonth = new DateTimeOffset(2026, 3, 31, 23, 59, 59, TimeSpan.Zero);
        var ledger = Ledger(endOfMonth);
        ledger.Grant("silo-a", 5m, 5m, null, 5m, endOfMonth);

        ledger.Roll(endOfMonth.AddSeconds(1));

        var spend = ledger.Spend(endOfMonth.AddSeconds(1));
        Assert.Equal(("2026-04", 0m, 0m), (spend.Month, spend.MonthSpentUsd, spend.MonthReservedUsd));
        Assert.True(ledger.Grant("silo-a", 5m, 5m, null, 5m, endOfMonth.AddSeconds(1)).Granted);
    }

    [Fact]
    public void Roll_HolderSilentPastItsExpiry_WhatItHeldCountsAsSpent()
    {
        var ledger = Ledger(Noon);
        ledger.Grant("gone", 2m, 2m, 10m, null, Noon);
        ledger.Grant("alive", 1m, 1m, 10m, null, Noon);
        var later = Noon + BudgetLedger.HolderExpiry - TimeSpan.FromSeconds(1);
        ledger.Touch("alive", later);

        ledger.Roll(Noon + BudgetLedger.HolderExpiry + TimeSpan.FromSeconds(1));

        var spend = ledger.Spend(Noon);
        Assert.Equal((2m, 1m), (spend.DaySpentUsd, spend.DayReservedUsd));
    }

    [Fact]
    public void Settle_HolderThatWasChargedAfterFallingSilent_CorrectsTheChargeToWhatItReallySpent()
    {
        var ledger = Ledger(Noon);
        var grant = ledger.Grant("cut-off", 2m, 2m, 10m, null, Noon);
        var later = Noon + BudgetLedger.HolderExpiry + TimeSpan.FromSeconds(1);
        ledger.Roll(later);
        var charged = ledger.Spend(later);

        ledger.Settle("cut-off", new BudgetSettlement { Day = grant.Day, Spent = 0.5m, Released = 1.5m });

        var corrected = ledger.Spend(later);
        Assert.Equal((2m, 0m), (charged.DaySpentUsd, charged.DayReservedUsd));
        Assert.Equal((0.5m, 0m, 0.5m), (corrected.DaySpentUsd, corrected.DayReservedUsd, corrected.MonthSpentUsd));
    }

    [Fact]
    public void ToRecord_RestoredIntoANewLedger_ResumesTheSameAccounts()
    {
        var ledger = Ledger(Noon);
        var grant = ledger.Grant("silo-a", 3m, 3m, 10m, null, Noon);
        ledger.Settle("silo-a", new BudgetSettlement { Day = grant.Day, Spent = 1m });

        var resumed = new BudgetLedger();
        resumed.Restore(ledger.ToRecord());
        resumed.Roll(Noon);
        resumed.Settle("silo-a", new BudgetSettlement { Day = grant.Day, Spent = 1m, Released = 1m });

        var spend = resumed.Spend(Noon);
        Assert.Equal((2m, 0m), (spend.DaySpentUsd, spend.DayReservedUsd));
    }
}
