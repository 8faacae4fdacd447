using Gatehouse.Budgets;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Ledger;

namespace Gatehouse.Silo.Http.Admin;

/// <summary>
/// <c>GET /admin/apps/{id}/spend?period=day|month</c>: what the app spent in the current UTC day or month, what calls
/// under way have reserved, its budget for the period and when the period resets.
/// </summary>
/// <remarks>
/// For an app with a budget the figures are its budget authority's (settled spend lags calls by about a second; money
/// silos hold for calls under way is reserved). An app without one has no authority: its spend is the ledger's sum of
/// cost for the period, and nothing is reserved. The default period is the month, or the day for an app whose only
/// budget is per day.
/// </remarks>
internal static class AdminSpendEndpoints
{
    public static void Map(RouteGroupBuilder admin) => admin.MapGet("/apps/{id}/spend", GetAsync);

    private static async Task<IResult> GetAsync(
        string id, HttpContext context, IGrainFactory grains, IUsageQuery usage, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        if (query.Keys.FirstOrDefault(k => k != "period") is { } unknown)
        {
            return Invalid($"Unknown query parameter '{unknown}': expected period.", unknown);
        }

        if (await grains.GetGrain<IAppGrain>(GrainKeys.App(id)).GetAsync(cancellationToken) is not { } app)
        {
            return AdminAppEndpoints.AppNotFound(id);
        }

        var settings = app.Settings;
        var period = query["period"].ToString() switch
        {
            "" => settings.BudgetUsdPerMonth is null && settings.BudgetUsdPerDay is not null ? "day" : "month",
            "day" => "day",
            "month" => "month",
            _ => null,
        };
        if (period is null)
        {
            return Invalid($"The period parameter '{query["period"]}' is invalid: expected day or month.", "period");
        }

        var budget = period == "day" ? settings.BudgetUsdPerDay : settings.BudgetUsdPerMonth;
        decimal spent, reserved;
        DateTimeOffset resetsAt;
        if (settings.BudgetUsdPerDay is not null || settings.BudgetUsdPerMonth is not null)
        {
            var spend = await grains.GetGrain<IBudgetGrain>(GrainKeys.Budget(id)).GetSpendAsync();
            (spent, reserved, resetsAt) = period == "day"
                ? (spend.DaySpentUsd, spend.DayReservedUsd, spend.DayEndsAt)
                : (spend.MonthSpentUsd, spend.MonthReservedUsd, spend.MonthEndsAt);
        }
        else
        {
            var now = timeProvider.GetUtcNow();
            resetsAt = period == "day" ? BudgetPeriods.DayEnd(now) : BudgetPeriods.MonthEnd(now);
            var start = period == "day" ? resetsAt.AddDays(-1) : resetsAt.AddMonths(-1);
            var rows = await usage.QueryAsync(new UsageFilter { App = id, From = start }, cancellationToken);
            (spent, reserved) = (rows.Sum(r => r.CostUsd), 0m);
        }

        return AdminResults.Json(StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("period", period);
            if (budget is { } amount)
            {
                w.WriteNumber("budgetUsd", UsdAmount.Normalised((decimal)amount));
            }
            else
            {
                w.WriteNull("budgetUsd");
            }

            w.WriteNumber("spentUsd", UsdAmount.Normalised(spent));
            w.WriteNumber("reservedUsd", UsdAmount.Normalised(reserved));
            w.WriteString("resetsAt", resetsAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
        });
    }

    private static IResult Invalid(string message, string param) =>
        AdminResults.Error(new GatewayException(GatewayError.InvalidRequest, message, param));
}
