using Gatehouse.Chat;
using Gatehouse.Ledger;

namespace Gatehouse.Tests.Ledger;

/// <summary>Records for ledger tests.</summary>
internal static class UsageRecords
{
    public static readonly DateTimeOffset Day1 = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    public static UsageRecord Upstream(
        string app = "a", string alias = "gpt", string provider = "openai", int prompt = 11, int completion = 7, decimal cost = 0.001m,
        DateTimeOffset? at = null, string cache = CacheStatus.Miss, string status = UsageStatus.Ok, int attempt = 1) =>
        new(at ?? Day1, app, alias, provider, "gpt-4o", prompt, completion, 0, cost, 0m, true, 12, cache, attempt, status);

    public static UsageRecord Hit(string app = "a", string alias = "gpt", string provider = "openai", decimal saved = 0.001m, DateTimeOffset? at = null) =>
        new(at ?? Day1, app, alias, provider, "gpt-4o", 11, 7, 0, 0m, saved, true, 0, CacheStatus.Hit, 0, UsageStatus.Ok);
}
