using Gatehouse.Grains;

namespace Gatehouse.Budgets;

/// <summary>
/// The accounting of one app's budget authority: money granted to holders is committed at once (debited up front),
/// settlements turn it into spend or give it back, and the day and month start afresh at their UTC boundaries.
/// </summary>
/// <remarks>
/// <para>
/// Not thread-safe: runs on the authority grain's scheduler. Every change is synchronous, so two grants can never both
/// see the same money left: a grant is made while anything is left, for the caller's whole estimate, so at most one
/// request's estimate ends up past the budget (and none when estimates are not exceeded).
/// </para>
/// <para>
/// A holder that has not been heard from for <see cref="HolderExpiry"/> (its silo is gone) is charged what it still
/// held: its calls in flight may have been made, and the authority cannot know which, so the money counts as spent.
/// If the holder was only cut off and settles later, its settlement corrects the charge.
/// </para>
/// </remarks>
internal sealed class BudgetLedger
{
    /// <summary>Live holders settle or renew at least every <see cref="BudgetLeaseHolder.RenewInterval"/> while they hold money.</summary>
    public static readonly TimeSpan HolderExpiry = TimeSpan.FromMinutes(2);

    /// <summary>A grant beyond the need takes at most this share of what is left, so silos cannot hoard the end of a budget.</summary>
    public const decimal MaxExtraShare = 0.125m;

    private BudgetRecord _record = new();

    public BudgetRecord ToRecord() => new()
    {
        Day = Copy(_record.Day),
        Month = Copy(_record.Month),
        Holders = [.. _record.Holders.Select(h => new BudgetHolderRecord { HolderId = h.HolderId, Day = h.Day, Outstanding = h.Outstanding, LastSeenTicks = h.LastSeenTicks, Charged = h.Charged })],
    };

    public void Restore(BudgetRecord record) => _record = record;

    /// <summary>Starts a new day or month when <paramref name="now"/> is past the current one, and charges holders that are gone.</summary>
    public void Roll(DateTimeOffset now)
    {
        var day = BudgetPeriods.Day(now);
        if (_record.Day.Key != day)
        {
            _record.Day = new BudgetPeriodRecord { Key = day };
        }

        var month = BudgetPeriods.MonthOf(day);
        if (_record.Month.Key != month)
        {
            _record.Month = new BudgetPeriodRecord { Key = month };
        }

        var expiredBefore = (now - HolderExpiry).UtcTicks;
        foreach (var silent in _record.Holders.Where(h => h.LastSeenTicks < expiredBefore && h.Outstanding > 0))
        {
            // Committed already holds the money; it moves from reserved to spent until the holder, if it was only
            // cut off, settles after all.
            Apply(silent.Day, spent: silent.Outstanding, committedChange: 0);
            silent.Charged += silent.Outstanding;
            silent.Outstanding = 0;
        }

        // A day of a past month counts no more; a charge nobody corrected for a day stays as it is.
        var forgottenBefore = (now - TimeSpan.FromDays(1)).UtcTicks;
        _record.Holders.RemoveAll(h => BudgetPeriods.MonthOf(h.Day) != month || (h.Outstanding == 0 && h.LastSeenTicks < forgottenBefore));
    }

    /// <summary>Turns a holder's settlement into spend and gives back what it released.</summary>
    public void Settle(string holderId, BudgetSettlement settlement)
    {
        var entry = _record.Holders.Find(h => h.HolderId == holderId && h.Day == settlement.Day);
        var outstanding = entry?.Outstanding ?? 0;
        var charged = entry?.Charged ?? 0;
        // Released money comes out of what is outstanding, then out of what was charged when the holder fell silent;
        // a release of money never granted is ignored.
        var released = Math.Max(settlement.Released, 0);
        var freed = Math.Min(released, outstanding);
        outstanding -= freed;
        var uncharged = Math.Min(released - freed, charged);
        charged -= uncharged;
        // Spend is covered by what is outstanding, then by the charge (counted already); the rest cost more than
        // its estimate and is committed now.
        var spent = Math.Max(settlement.Spent, 0);
        var covered = Math.Min(outstanding, spent);
        outstanding -= covered;
        var coveredByCharge = Math.Min(charged, spent - covered);
        charged -= coveredByCharge;
        var beyond = spent - covered - coveredByCharge;
        Apply(settlement.Day, spent: covered + beyond - uncharged, committedChange: beyond - freed - uncharged);
        if (entry is not null)
        {
            (entry.Outstanding, entry.Charged) = (outstanding, charged);
            if (outstanding == 0 && charged == 0)
            {
                _record.Holders.Remove(entry);
            }
        }
    }

    /// <summary>Records that the holder is alive: what it holds does not expire.</summary>
    public void Touch(string holderId, DateTimeOffset now)
    {
        foreach (var entry in _record.Holders)
        {
            if (entry.HolderId == holderId)
            {
                entry.LastSeenTicks = now.UtcTicks;
            }
        }
    }

    /// <summary>
    /// Grants the holder <paramref name="needed"/> and up to <paramref name="wanted"/> for today while anything is left of
    /// both budgets (null = no limit); refuses naming the spent budget otherwise. <see cref="Roll"/> first.
    /// </summary>
    public BudgetLeaseGrant Grant(string holderId, decimal needed, decimal wanted, decimal? dayBudget, decimal? monthBudget, DateTimeOffset now)
    {
        var dayLeft = dayBudget - _record.Day.Committed;
        var monthLeft = monthBudget - _record.Month.Committed;
        var dayEnd = BudgetPeriods.DayEnd(now);
        if (dayLeft <= 0 || monthLeft <= 0)
        {
            var byDay = dayLeft <= 0;
            return new BudgetLeaseGrant
            {
                Day = _record.Day.Key,
                DayEndsAt = dayEnd,
                Period = byDay ? "day" : "month",
                BudgetUsd = (byDay ? dayBudget : monthBudget) ?? 0,
                ResetsAt = byDay ? dayEnd : BudgetPeriods.MonthEnd(now),
            };
        }

        var left = Min(dayLeft, monthLeft);
        var amount = needed;
        if (left is { } l && l > needed)
        {
            amount += Math.Min(Math.Max(wanted - needed, 0), (l - needed) * MaxExtraShare);
        }
        else if (left is null)
        {
            amount = Math.Max(wanted, needed);
        }

        _record.Day.Committed += amount;
        _record.Month.Committed += amount;
        var entry = _record.Holders.Find(h => h.HolderId == holderId && h.Day == _record.Day.Key);
        if (entry is null)
        {
            entry = new BudgetHolderRecord { HolderId = holderId, Day = _record.Day.Key };
            _record.Holders.Add(entry);
        }

        entry.Outstanding += amount;
        entry.LastSeenTicks = now.UtcTicks;
        return new BudgetLeaseGrant { Granted = true, Amount = amount, Day = _record.Day.Key, DayEndsAt = dayEnd };
    }

    public BudgetSpend Spend(DateTimeOffset now) => new()
    {
        Day = _record.Day.Key,
        DaySpentUsd = _record.Day.Spent,
        DayReservedUsd = Math.Max(_record.Day.Committed - _record.Day.Spent, 0),
        DayEndsAt = BudgetPeriods.DayEnd(now),
        Month = _record.Month.Key,
        MonthSpentUsd = _record.Month.Spent,
        MonthReservedUsd = Math.Max(_record.Month.Committed - _record.Month.Spent, 0),
        MonthEndsAt = BudgetPeriods.MonthEnd(now),
    };

    /// <summary>Counts spend and a change of commitment for the periods the day belongs to (a past day or month counts no more).</summary>
    private void Apply(string day, decimal spent, decimal committedChange)
    {
        if (day == _record.Day.Key)
        {
            _record.Day.Spent += spent;
            _record.Day.Committed += committedChange;
        }

        if (day.Length >= 7 && BudgetPeriods.MonthOf(day) == _record.Month.Key)
        {
            _record.Month.Spent += spent;
            _record.Month.Committed += committedChange;
        }
    }

    private static decimal? Min(decimal? a, decimal? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static BudgetPeriodRecord Copy(BudgetPeriodRecord period) => new() { Key = period.Key, Spent = period.Spent, Committed = period.Committed };
}
