using Gatehouse.Apps;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Authorities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Gatehouse.Budgets;

/// <summary>The authority for one app's budgets per UTC day and month (its record's <c>BudgetUsdPerDay</c>, <c>BudgetUsdPerMonth</c>), shared by every silo.</summary>
/// <remarks>
/// Reentrant: every change to the accounts is made in one synchronous step, and an answer is given only once the record
/// holding it is written (<see cref="GatehouseStorageNames.Quota"/>), so a replacement activation resumes from it and
/// spend survives restarts. The budgets are read from this silo's app snapshot at each grant, so a change made through
/// the admin API applies to the next grant. A call whose change could not be recorded fails (the holder retries its
/// settlements; a request is answered 503), never grants unrecorded money.
/// </remarks>
[Reentrant]
internal sealed class BudgetGrain(AppRegistry apps, TimeProvider timeProvider, ILogger<BudgetGrain> logger) : Grain, IBudgetGrain
{
    private readonly BudgetLedger _ledger = new();
    private QuotaRecordStore<BudgetRecord>? _store;

    private QuotaRecordStore<BudgetRecord> Store => _store ??= new QuotaRecordStore<BudgetRecord>(
        ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GatehouseStorageNames.Quota), BudgetRecord.StateName,
        this.GetGrainId(), _ledger.ToRecord, _ledger.Restore, logger);

    public async Task<BudgetLeaseGrant> LeaseAsync(BudgetLeaseRequest request)
    {
        await LoadAsync();
        var now = timeProvider.GetUtcNow();
        _ledger.Roll(now);
        foreach (var settlement in request.Settlements)
        {
            _ledger.Settle(request.HolderId, settlement);
        }

        _ledger.Touch(request.HolderId, now);
        var grant = request.Needed > 0 || request.Wanted > 0 ? Grant(request, now) : new BudgetLeaseGrant();
        if (!await Store.PersistAsync())
        {
            throw Unrecorded();
        }

        return grant;
    }

    public async Task<BudgetSpend> GetSpendAsync()
    {
        await LoadAsync();
        var now = timeProvider.GetUtcNow();
        _ledger.Roll(now);
        return _ledger.Spend(now);
    }

    private BudgetLeaseGrant Grant(BudgetLeaseRequest request, DateTimeOffset now)
    {
        var settings = apps.Find(this.GetPrimaryKeyString())?.Settings;
        return _ledger.Grant(request.HolderId, request.Needed, request.Wanted, ToUsd(settings?.BudgetUsdPerDay), ToUsd(settings?.BudgetUsdPerMonth), now);
    }

    private async Task LoadAsync()
    {
        if (!await Store.LoadAsync())
        {
            throw Unrecorded();
        }
    }

    private GatewayException Unrecorded() => new(
        GatewayError.NoTargetAvailable, $"The budget of app '{this.GetPrimaryKeyString()}' could not be read or recorded; try again shortly.", retryAfter: TimeSpan.FromSeconds(1));

    private static decimal? ToUsd(double? budget) => budget is { } value ? (decimal)value : null;
}
