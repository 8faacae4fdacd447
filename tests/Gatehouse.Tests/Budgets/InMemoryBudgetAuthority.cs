using Gatehouse.Budgets;
using Gatehouse.Grains;

namespace Gatehouse.Tests.Budgets;

/// <summary>A budget authority without a grain: the real <see cref="BudgetLedger"/> behind a lock, answering after a yield as a grain call would.</summary>
internal sealed class InMemoryBudgetAuthority(TimeProvider time, decimal? dayBudget, decimal? monthBudget = null) : IBudgetGrain
{
    private readonly Lock _gate = new();
    private readonly BudgetLedger _ledger = new();
    private int _grantCalls;

    /// <summary>When set, every call fails with it (an unreachable authority).</summary>
    public Exception? FailWith { get; set; }

    public decimal? DayBudget { get; set; } = dayBudget;

    public int GrantCalls => Volatile.Read(ref _grantCalls);

    public GrainId GetGrainId() => GrainId.Create("budget", "test");

    public async Task<BudgetLeaseGrant> LeaseAsync(BudgetLeaseRequest request)
    {
        await Task.Yield();
        if (FailWith is { } error)
        {
            throw error;
        }

        lock (_gate)
        {
            var now = time.GetUtcNow();
            _ledger.Roll(now);
            foreach (var settlement in request.Settlements)
            {
                _ledger.Settle(request.HolderId, settlement);
            }

            _ledger.Touch(request.HolderId, now);
            if (request.Needed <= 0)
            {
                return new BudgetLeaseGrant();
            }

            _grantCalls++;
            return _ledger.Grant(request.HolderId, request.Needed, request.Wanted, DayBudget, monthBudget, now);
        }
    }

    public Task<BudgetSpend> GetSpendAsync()
    {
        lock (_gate)
        {
            _ledger.Roll(time.GetUtcNow());
            return Task.FromResult(_ledger.Spend(time.GetUtcNow()));
        }
    }
}
