using System.Collections.Immutable;

namespace Gatehouse.Apps;

/// <summary>Turns the config file's <c>Gatehouse:Apps</c> entries into the records the app grains are seeded with.</summary>
public static class ConfiguredApps
{
    public static AppSettings Settings(AppOptions app) => new()
    {
        Models = [.. app.Models],
        RequestsPerMinute = app.RequestsPerMinute,
        TokensPerMinute = app.TokensPerMinute,
        Burst = app.Burst,
        Priority = app.Priority,
        CacheNamespace = app.CacheNamespace,
        CacheAllRequests = app.CacheAllRequests,
        BudgetUsdPerDay = app.BudgetUsdPerDay,
        BudgetUsdPerMonth = app.BudgetUsdPerMonth,
        DefaultMaxTokensEstimate = app.DefaultMaxTokensEstimate,
    };

    /// <summary>The app's config keys as hashes (ids <c>config-1</c>, <c>config-2</c>, … in file order); keys that do not resolve are skipped.</summary>
    public static ImmutableArray<AppKey> Keys(AppOptions app, DateTimeOffset now)
    {
        var keys = ImmutableArray.CreateBuilder<AppKey>();
        foreach (var configured in app.Keys)
        {
            if (AppKeyHasher.TryHashConfiguredKey(configured, out _) is { } hash && !keys.Any(k => k.Hash == hash))
            {
                keys.Add(new AppKey { Id = $"config-{keys.Count + 1}", Hash = hash, Name = "config", CreatedAt = now, FromConfig = true });
            }
        }

        return keys.ToImmutable();
    }

    /// <summary>The record a config-file app stands for before (or without) grain storage.</summary>
    public static AppRecord Record(string appId, AppOptions app, DateTimeOffset now) =>
        new() { Id = appId, Settings = Settings(app), Keys = Keys(app, now), FromConfig = true, CreatedAt = now };
}
