namespace Gatehouse.Configuration;

/// <summary>
/// The largest values the numeric settings accept. They are far beyond any real deployment and low enough that the
/// arithmetic on them (token sums, <see cref="TimeSpan"/> conversions, batch shares) can never overflow.
/// </summary>
public static class SettingBounds
{
    public const int MaxPort = 65535;
    public const int MaxRequestsPerMinute = 10_000_000;
    /// <summary>Two of these still fit in an <see cref="int"/>: the buckets add a debit to a used count.</summary>
    public const int MaxTokensPerMinute = 1_000_000_000;
    public const int MaxConcurrency = 100_000;
    public const int MaxTokensEstimate = 10_000_000;
    public const int MaxDefaultMaxTokens = 1_000_000;
    /// <summary>
    /// An upstream call runs inside one grain call, which Orleans times out after ten minutes
    /// (<c>SiloHostingExtensions.GrainCallTimeout</c>): a longer upstream timeout could never take effect.
    /// </summary>
    public const int MaxTimeoutSeconds = 600;
    /// <summary>Every wait, delay and deadline in milliseconds: ten minutes.</summary>
    public const int MaxMilliseconds = 600_000;
    /// <summary>Circuit break and concurrency lease durations: one hour.</summary>
    public const int MaxLeaseSeconds = 3600;
    public const int MaxTtlSeconds = 30 * 24 * 3600;
    public const int MaxBytes = 1024 * 1024 * 1024;
    public const int MaxRetries = 10;
    /// <summary>High enough to mean "never open" for an operator (or a benchmark) that wants no circuit breaker.</summary>
    public const int MaxFailureThreshold = 1_000_000_000;
    public const int MaxWeight = 1_000_000;
    public const int MaxPricePerMillion = 1_000_000;
    public const int MaxBudgetUsdPerDay = 1_000_000_000;
    public const long MaxBudgetUsdPerMonth = 31L * MaxBudgetUsdPerDay;
    public const int MaxImageTokenEstimate = 1_000_000;
}
