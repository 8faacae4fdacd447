using Gatehouse.Configuration;

namespace Gatehouse.RateLimiting;

/// <summary>The <c>Gatehouse:RateLimits</c> section: how requests wait for and draw on the distributed buckets.</summary>
public sealed class RateLimitOptions
{
    /// <summary>
    /// Without <c>x-gatehouse-max-wait-ms</c>, the longest one bucket or slot wait may last (within the request's
    /// <c>Routing:MaxWaitMs</c> deadline). The default value is 1000 ms.
    /// </summary>
    [SettingRange(0, SettingBounds.MaxMilliseconds)]
    public int DefaultMaxWaitMs { get; set; } = RateLimitConstants.DefaultMaxWaitMs;

    /// <summary>The longest deadline a caller may ask for with <c>x-gatehouse-max-wait-ms</c>. The default value is 30000 ms.</summary>
    [SettingRange(0, SettingBounds.MaxMilliseconds)]
    public int MaxWaitCapMs { get; set; } = RateLimitConstants.MaxWaitCapMs;

    /// <summary>
    /// How long before its lease's slot ends a silo stops using it, measured from before it asked (covers clock-rate
    /// drift and the time between admission and the upstream call). The default value is 20 ms.
    /// </summary>
    [SettingRange(0, 499, ErrorMessage = "a lease lasts at most until its one-second slot ends")]
    public int LeaseSafetyMarginMs { get; set; } = RateLimitConstants.LeaseSafetyMarginMs;

    /// <summary>The largest share of the burst one batch may take, and of the free concurrency slots beyond what a silo needs (0..1]. The default value is 0.25.</summary>
    [SettingRange(0d, 1d, MinimumIsExclusive = true)]
    public double MaxBatchShare { get; set; } = RateLimitConstants.MaxBatchShare;

    /// <summary>Completion tokens assumed when neither the request (<c>max_tokens</c>) nor provider or app gives a figure. The default value is 256.</summary>
    [SettingRange(1, SettingBounds.MaxTokensEstimate)]
    public int DefaultMaxTokensEstimate { get; set; } = RateLimitConstants.DefaultMaxTokensEstimate;

    /// <summary>Tokens counted per image part. The default value is 765 (OpenAI's high-detail 1024×1024 tile cost).</summary>
    [SettingRange(0, SettingBounds.MaxImageTokenEstimate)]
    public int ImageTokenEstimate { get; set; } = RateLimitConstants.ImageTokenEstimate;

    /// <summary>How long a silo holds concurrency slots without renewing them. The default value is 10 seconds.</summary>
    [SettingRange(0d, SettingBounds.MaxLeaseSeconds, MinimumIsExclusive = true)]
    public double ConcurrencyLeaseSeconds { get; set; } = RateLimitConstants.ConcurrencyLeaseSeconds;
}
