using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Options;

namespace Gatehouse.Budgets;

/// <summary>The pipeline's seam to each app's budget: reserves a request's estimated cost before routing and settles what it cost after.</summary>
/// <remarks>
/// Thread-safe singleton. An app without a budget costs one snapshot lookup. The estimate is the request's
/// <see cref="RequestEstimate"/> (the prompt plus <c>max_tokens</c>, or the app's, else the global, bounded default
/// estimate; an embedding's inputs), at the dearest prices among the alias's targets, so a call normally costs no more than it reserved; the settled cost is
/// what the answer's usage costs at the provider and model that answered (the ledger's price).
/// </remarks>
public sealed class AppBudgets(
    BudgetLeaseHolder holder, AppRegistry apps, UsagePricer pricer, IOptionsMonitor<GatehouseOptions> options, GatehouseMetrics metrics)
{
    /// <summary>
    /// Reserves the request's estimated cost from the app's budget; throws a <see cref="GatewayError.BudgetExhausted"/>
    /// <see cref="GatewayException"/> when the day's or the month's budget is spent.
    /// </summary>
    /// <param name="alias">The model alias asked for: its dearest target prices the estimate.</param>
    /// <param name="estimate">The request's tokens, whatever its kind; read only for an app with a budget.</param>
    public ValueTask<BudgetReservation> ReserveAsync(string appId, string alias, RequestEstimate estimate, CancellationToken cancellationToken)
    {
        if (apps.Find(appId)?.Settings is not { } settings || (settings.BudgetUsdPerDay is null && settings.BudgetUsdPerMonth is null))
        {
            return ValueTask.FromResult(BudgetReservation.None);
        }

        var (input, output) = DearestPrices(alias);
        return ReserveAsync(appId, new ModelPrice(input, output, input).Cost(estimate.InputTokens, estimate.OutputTokens, 0), cancellationToken);
    }

    private async ValueTask<BudgetReservation> ReserveAsync(string appId, decimal estimate, CancellationToken cancellationToken)
    {
        try
        {
            return await holder.ReserveAsync(appId, estimate, cancellationToken).ConfigureAwait(false);
        }
        catch (GatewayException ex) when (ex.Error == GatewayError.BudgetExhausted)
        {
            metrics.RateLimited("budget");
            throw;
        }
    }

    /// <summary>Settles with the cost of <paramref name="billed"/> at <paramref name="answeredBy"/> (nothing billed: 0).</summary>
    public void Settle(BudgetReservation reservation, RouteInfo? answeredBy, Usage? billed)
    {
        if (reservation.AppId is null)
        {
            return;
        }

        var cost = answeredBy is null || billed is null ? 0m : pricer.Price(answeredBy.Provider, answeredBy.Model, billed).Cost;
        holder.Settle(reservation, cost);
    }

    /// <summary>The dearest input (cached or not) and output prices among the alias's targets; 0 for an unknown alias.</summary>
    private (decimal Input, decimal Output) DearestPrices(string alias)
    {
        if (!options.CurrentValue.Models.TryGetValue(alias, out var model))
        {
            return (0, 0);
        }

        decimal input = 0, output = 0;
        foreach (var target in model.Targets)
        {
            if (pricer.Find(target.Provider, target.Model) is { } price)
            {
                input = Math.Max(input, Math.Max(price.InputPerMillion, price.CachedInputPerMillion));
                output = Math.Max(output, price.OutputPerMillion);
            }
        }

        return (input, output);
    }
}
