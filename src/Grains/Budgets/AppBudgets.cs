using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Options;

namespace Gatehouse.Budgets;

/// <summary>The pipeline's seam to each app's budget: reserves a request's estimated cost before routing and settles what it cost after.</summary>
/// <remarks>
/// Thread-safe singleton. An app without a budget costs one snapshot lookup. The estimate is the prompt (counted by
/// <see cref="TokenEstimator"/>) plus <c>max_tokens</c> (or the app's, else the global, bounded default estimate), at the
/// dearest price among the alias's targets, so a call normally costs no more than it reserved; the settled cost is
/// what the answer's usage costs at the provider and model that answered (the ledger's price).
/// </remarks>
public sealed class AppBudgets(
    BudgetLeaseHolder holder, AppRegistry apps, TokenEstimator estimator, UsagePricer pricer, IOptionsMonitor<GatehouseOptions> options, GatehouseMetrics metrics)
{
    /// <summary>
    /// Reserves the request's estimated cost from the app's budget; throws a <see cref="GatewayError.BudgetExhausted"/>
    /// <see cref="GatewayException"/> when the day's or the month's budget is spent.
    /// </summary>
    public ValueTask<BudgetReservation> ReserveAsync(string appId, ChatRequest request, CancellationToken cancellationToken)
    {
        if (apps.Find(appId)?.Settings is not { } settings || (settings.BudgetUsdPerDay is null && settings.BudgetUsdPerMonth is null))
        {
            return ValueTask.FromResult(BudgetReservation.None);
        }

        return ReserveAsync(appId, Estimate(request, settings.DefaultMaxTokensEstimate), cancellationToken);
    }

    /// <summary>As for chat: the embedding's input tokens at the dearest input price among the alias's targets.</summary>
    public ValueTask<BudgetReservation> ReserveAsync(string appId, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        if (apps.Find(appId)?.Settings is not { } settings || (settings.BudgetUsdPerDay is null && settings.BudgetUsdPerMonth is null))
        {
            return ValueTask.FromResult(BudgetReservation.None);
        }

        var input = DearestPrices(request.Model).Input;
        return ReserveAsync(appId, new ModelPrice(input, 0, input).Cost(estimator.Estimate(request), 0, 0), cancellationToken);
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

    /// <summary>The most the request should cost: its prompt and completion allowance at the dearest target of its alias.</summary>
    public decimal Estimate(ChatRequest request, int? appDefaultMaxTokens)
    {
        var (input, output) = DearestPrices(request.Model);
        var completion = request.MaxTokens ?? appDefaultMaxTokens ?? options.CurrentValue.RateLimits.DefaultMaxTokensEstimate;
        return new ModelPrice(input, output, input).Cost(estimator.PromptTokens(request), completion, 0);
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
