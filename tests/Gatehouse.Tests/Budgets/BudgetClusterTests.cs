using Gatehouse.Budgets;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Tests.Postgres;
using Gatehouse.Tests.Support;
using Npgsql;

namespace Gatehouse.Tests.Budgets;

/// <summary>Budgets on two silos over PostgreSQL: concurrent requests cut off at the budget, spend equals the ledger, periods reset, spend survives.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BudgetClusterTests(TestPostgres postgres) : IAsyncLifetime
{
    private BudgetCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await BudgetCluster.StartAsync(postgres);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<GatewayError> CallAsync(int silo, string app, string text)
    {
        try
        {
            await _cluster.PipelineOf(silo).CompleteAsync(BudgetCluster.App(app), BudgetCluster.Ask(text), CallOptions.Default, CancellationToken.None);
            return GatewayError.None;
        }
        catch (GatewayException ex)
        {
            return ex.Error;
        }
    }

    private Task<BudgetSpend> SpendAsync(string app) =>
        _cluster.ServiceOf<IGrainFactory>(0).GetGrain<IBudgetGrain>(GrainKeys.Budget(app)).GetSpendAsync();

    [Fact]
    public async Task FiftyConcurrentRequestsOverTwoSilos_CutOffAtTheBudgetNeverPastItAndSpendEqualsTheLedger()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _cluster.BillMaxTokens(release.Task);
        var refused = 0;

        var calls = Enumerable.Range(0, 50).Select(async i =>
        {
            var error = await CallAsync(i % 2, "daily", $"call {i}");
            if (error == GatewayError.BudgetExhausted)
            {
                Interlocked.Increment(ref refused);
            }

            return error;
        }).ToArray();
        // Every admitted call is held at the upstream, so all of them are in flight together when the others are refused.
        var settled = DateTime.UtcNow + PhaseTimeouts.Default;
        while (_cluster.Upstream.Calls + Volatile.Read(ref refused) < 50)
        {
            Assert.True(DateTime.UtcNow < settled, $"{_cluster.Upstream.Calls} calls admitted and {refused} refused of 50");
            await Task.Delay(10);
        }

        release.SetResult();
        var errors = await Task.WhenAll(calls);

        var admitted = _cluster.Upstream.Calls;
        Assert.All(errors, e => Assert.Contains(e, new[] { GatewayError.None, GatewayError.BudgetExhausted }));
        // $20 at $1 a call: never more than one call's estimate past the budget, at most one short of it.
        Assert.InRange(admitted, 19, 21);
        await _cluster.SettleAllAsync();
        var spend = await SpendAsync("daily");
        Assert.Equal((admitted * BudgetCluster.CostPerCall, 0m), (spend.DaySpentUsd, spend.DayReservedUsd));
        await _cluster.FlushLedgersAsync();
        await using var connection = new NpgsqlConnection(_cluster.Database);
        await connection.OpenAsync();
        await using var sum = new NpgsqlCommand("SELECT COUNT(*), SUM(cost_usd) FROM gatehouse_usage WHERE app_id = 'daily'", connection);
        await using var reader = await sum.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((admitted, spend.DaySpentUsd), ((int)reader.GetInt64(0), reader.GetDecimal(1)));
    }

    [Fact]
    public async Task DayThenMonthSpent_RefusedUntilEachResetsAtItsUtcBoundary()
    {
        _cluster.BillMaxTokens();

        var firstDay = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => CallAsync(i % 2, "monthly", $"day one {i}")));
        _cluster.Time.Advance(TimeSpan.FromHours(1));
        var secondDay = new[] { await CallAsync(0, "monthly", "day two 0"), await CallAsync(1, "monthly", "day two 1") };
        await _cluster.SettleAllAsync();
        var spentMarch = await SpendAsync("monthly");
        _cluster.Time.Advance(TimeSpan.FromDays(1));
        var nextMonth = await CallAsync(1, "monthly", "april");

        // $2 a day: two calls on March 30, the third refused; March 31 has $1 left of the month's $3.
        Assert.Equal(2, firstDay.Count(e => e == GatewayError.None));
        Assert.Equal(GatewayError.BudgetExhausted, Assert.Single(firstDay, e => e != GatewayError.None));
        Assert.Equal(new[] { GatewayError.None, GatewayError.BudgetExhausted }, secondDay);
        Assert.Equal(("2026-03-31", 1m, "2026-03", 3m), (spentMarch.Day, spentMarch.DaySpentUsd, spentMarch.Month, spentMarch.MonthSpentUsd));
        Assert.Equal(GatewayError.None, nextMonth);
        Assert.Equal(4, _cluster.Upstream.Calls);
    }

    [Fact]
    public async Task AuthorityDeactivated_NewActivationResumesTheSpendFromPostgreSql()
    {
        _cluster.BillMaxTokens();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(GatewayError.None, await CallAsync(i % 2, "daily", $"kept {i}"));
        }

        await _cluster.SettleAllAsync();
        var authority = _cluster.ServiceOf<IGrainFactory>(0).GetGrain<IBudgetGrain>(GrainKeys.Budget("daily"));
        await authority.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        var resumed = await SpendAsync("daily");

        Assert.Equal((5m, 0m), (resumed.DaySpentUsd, resumed.DayReservedUsd));
        await using var connection = new NpgsqlConnection(_cluster.Database);
        await connection.OpenAsync();
        await using var rows = new NpgsqlCommand("SELECT COUNT(*) FROM orleans_grain_state WHERE grain_type = 'budget'", connection);
        Assert.Equal(1L, (long)(await rows.ExecuteScalarAsync())!);
    }
}
