using Gatehouse.Budgets;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Budgets;

/// <summary>Silos' pools of an app's budget against one authority: concurrent requests, settlement, refusal, the UTC day.</summary>
public sealed class BudgetLeaseHolderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 30, 23, 0, 0, TimeSpan.Zero));

    private BudgetLeaseHolder Holder(InMemoryBudgetAuthority authority) => new(_ => authority, _time, NullLogger.Instance);

    /// <summary>Reserves and reports the outcome; admitted requests are held (not settled) so all of them are in flight at once.</summary>
    private static async Task<BudgetReservation?> TryReserve(BudgetLeaseHolder holder, decimal estimate)
    {
        try
        {
            return await holder.ReserveAsync("app", estimate, CancellationToken.None);
        }
        catch (GatewayException ex) when (ex.Error == GatewayError.BudgetExhausted)
        {
            return null;
        }
    }

    [Fact]
    public async Task Reserve_FiftyConcurrentOverTwoSilos_CutOffWithinOneEstimateOfTheBudgetNeverPastIt()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 20m);
        var silos = new[] { Holder(authority), Holder(authority) };

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => TryReserve(silos[i % 2], 1m))));

        var admitted = outcomes.Where(o => o is not null).ToArray();
        // Never past budget + one request's estimate; below it by at most the fractions left in the other silo's pool.
        Assert.InRange(admitted.Length, 19, 21);
        for (var i = 0; i < admitted.Length; i++)
        {
            silos[i % 2].Settle(admitted[i]!, 1m);
        }

        await Task.WhenAll(silos.Select(s => s.FlushAsync(CancellationToken.None)));
        var spend = await authority.GetSpendAsync();
        Assert.Equal(admitted.Length, spend.DaySpentUsd);
    }

    [Fact]
    public async Task Reserve_CallsCostLessThanEstimated_SettledMoneyServesLaterRequestsUntilTheBudgetIsSpent()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 1m);
        var holder = Holder(authority);

        var admitted = 0;
        while (await TryReserve(holder, 0.3m) is { } reservation)
        {
            holder.Settle(reservation, 0.1m);
            admitted++;
        }

        await holder.FlushAsync(CancellationToken.None);
        var spend = await authority.GetSpendAsync();
        Assert.Equal(10, admitted);
        Assert.Equal(1m, spend.DaySpentUsd);
    }

    [Fact]
    public async Task Reserve_BudgetSpent_RefusedLocallyWithoutAskingTheAuthorityAgainUntilTheRecheck()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 1m);
        var holder = Holder(authority);
        holder.Settle((await TryReserve(holder, 1m))!, 1m);

        var refusals = new List<GatewayException>();
        for (var i = 0; i < 20; i++)
        {
            refusals.Add(await Assert.ThrowsAsync<GatewayException>(() => holder.ReserveAsync("app", 0.5m, CancellationToken.None).AsTask()));
        }

        var callsWhileRefused = authority.GrantCalls;
        _time.Advance(BudgetLeaseHolder.RefusalRecheck);
        await Assert.ThrowsAsync<GatewayException>(() => holder.ReserveAsync("app", 0.5m, CancellationToken.None).AsTask());

        Assert.All(refusals, r => Assert.Equal(GatewayError.BudgetExhausted, r.Error));
        Assert.Contains("$1 per day", refusals[0].Message);
        Assert.Equal(TimeSpan.FromHours(1), refusals[0].RetryAfter);
        Assert.Equal(2, callsWhileRefused);
        Assert.Equal(3, authority.GrantCalls);
    }

    [Fact]
    public async Task Reserve_AfterUtcMidnight_TheNewDaysBudgetServes()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 1m);
        var holder = Holder(authority);
        holder.Settle((await TryReserve(holder, 1m))!, 1m);
        Assert.Null(await TryReserve(holder, 1m));

        _time.Advance(TimeSpan.FromHours(1));
        var nextDay = await TryReserve(holder, 1m);

        Assert.Equal("2026-03-31", nextDay?.Day);
    }

    [Fact]
    public async Task Flush_MoneyIdle_IsGivenBackSoTheAuthorityHoldsNoReservation()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 100m);
        var holder = Holder(authority);
        holder.Settle((await TryReserve(holder, 1m))!, 0.25m);

        await holder.FlushAsync(CancellationToken.None);
        var settledOnly = await authority.GetSpendAsync();
        _time.Advance(BudgetLeaseHolder.IdleRelease);
        await holder.FlushAsync(CancellationToken.None);
        var released = await authority.GetSpendAsync();

        Assert.Equal(0.25m, settledOnly.DaySpentUsd);
        Assert.True(settledOnly.DayReservedUsd > 0);
        Assert.Equal((0.25m, 0m), (released.DaySpentUsd, released.DayReservedUsd));
    }

    [Fact]
    public async Task Flush_AuthorityUnreachable_SettlementsAreKeptAndSentWhenItAnswersAgain()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 100m);
        var holder = Holder(authority);
        holder.Settle((await TryReserve(holder, 1m))!, 0.5m);

        authority.FailWith = new TimeoutException("silo gone");
        await holder.FlushAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<GatewayException>(() => holder.ReserveAsync("other", 1m, CancellationToken.None).AsTask());
        authority.FailWith = null;
        await holder.FlushAsync(CancellationToken.None);

        Assert.Equal(GatewayError.NoTargetAvailable, error.Error);
        Assert.Equal(0.5m, (await authority.GetSpendAsync()).DaySpentUsd);
    }

    [Fact]
    public async Task Reserve_BudgetRaisedAfterARefusal_ServesAgainAfterTheRecheck()
    {
        var authority = new InMemoryBudgetAuthority(_time, dayBudget: 1m);
        var holder = Holder(authority);
        holder.Settle((await TryReserve(holder, 1m))!, 1m);
        Assert.Null(await TryReserve(holder, 1m));

        authority.DayBudget = 5m;
        _time.Advance(BudgetLeaseHolder.RefusalRecheck);

        Assert.NotNull(await TryReserve(holder, 1m));
    }
}
