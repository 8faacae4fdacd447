using System.Collections.Immutable;
using Gatehouse.Grains;

namespace Gatehouse.Apps;

/// <summary>What an application may do: its model allowlist, quotas, priority, cache scope and budgets.</summary>
/// <remarks>The fields are the <c>Gatehouse:Apps:&lt;id&gt;</c> config names; null means "not limited" or "the default".</remarks>
[GenerateSerializer, Immutable, Alias("gatehouse.AppSettings")]
public sealed record AppSettings
{
    /// <summary>Aliases the app may use; every alias when empty.</summary>
    [Id(0)] public ImmutableArray<string> Models { get; init; } = [];
    [Id(1)] public int? RequestsPerMinute { get; init; }
    [Id(2)] public int? TokensPerMinute { get; init; }
    [Id(3)] public int? Burst { get; init; }
    [Id(4)] public RequestPriority Priority { get; init; } = RequestPriority.Normal;
    [Id(5)] public string? CacheNamespace { get; init; }
    [Id(6)] public bool CacheAllRequests { get; init; }
    [Id(7)] public double? BudgetUsdPerDay { get; init; }
    [Id(8)] public double? BudgetUsdPerMonth { get; init; }
    [Id(9)] public int? DefaultMaxTokensEstimate { get; init; }

    /// <summary>Field-by-field equality (the allowlist by its items, in order).</summary>
    public bool SameAs(AppSettings other) =>
        Models.SequenceEqual(other.Models) && this with { Models = other.Models } == other;
}
