using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Metrics;

namespace Gatehouse.Ledger;

/// <summary>Turns what the request path knows about a call into a priced <see cref="UsageRecord"/> for the ledger, and into the upstream metrics.</summary>
/// <remarks>Called where the facts are known: the router for each upstream attempt, the cache for each hit or shared answer.</remarks>
public sealed class UsageMeter(IUsageLedger ledger, UsagePricer pricer, GatehouseMetrics metrics, TimeProvider timeProvider)
{
    /// <summary>One upstream attempt: billed at the price of what was called.</summary>
    public ValueTask RecordUpstreamAsync(
        RoutedCall call, string provider, string model, Usage? usage, TimeSpan latency, int attempt, string status)
    {
        var (cost, priced) = pricer.Price(provider, model, usage);
        metrics.Upstream(call.AppId, call.Alias, provider, model, OutcomeOf(status), latency, usage?.PromptTokens ?? 0, usage?.CompletionTokens ?? 0, cost);
        return ledger.RecordAsync(new UsageRecord(
            timeProvider.GetUtcNow(), call.AppId, call.Alias, provider, model,
            usage?.PromptTokens ?? 0, usage?.CompletionTokens ?? 0, usage?.CachedPromptTokens ?? 0,
            cost, 0m, priced, Milliseconds(latency), call.CacheOutcome, attempt, status));
    }

    /// <summary>
    /// An answer served without an upstream call (<paramref name="cacheStatus"/> hit or shared): it cost nothing and
    /// saved what its usage would have cost at the provider and model that first answered it.
    /// </summary>
    public ValueTask RecordCacheAnswerAsync(string appId, string alias, string cacheStatus, RouteInfo? answeredBy, Usage? usage)
    {
        var provider = answeredBy?.Provider ?? "";
        var model = answeredBy?.Model ?? "";
        var (saved, priced) = pricer.Price(provider, model, usage);
        return ledger.RecordAsync(new UsageRecord(
            timeProvider.GetUtcNow(), appId, alias, provider, model,
            usage?.PromptTokens ?? 0, usage?.CompletionTokens ?? 0, usage?.CachedPromptTokens ?? 0,
            0m, saved, priced, 0, cacheStatus, 0, UsageStatus.Ok));
    }

    /// <summary>The metric outcome of a ledger status: <c>ok</c>, <c>canceled</c>, <c>error</c> or the error kind in snake case.</summary>
    private static string OutcomeOf(string status) =>
        status == UsageStatus.Cancelled ? GatehouseMetrics.Outcome(GatewayError.Canceled)
        : Enum.TryParse<GatewayError>(status, out var error) ? GatehouseMetrics.Outcome(error)
        : status;

    private static int Milliseconds(TimeSpan latency) => (int)Math.Clamp(latency.TotalMilliseconds, 0, int.MaxValue);
}
