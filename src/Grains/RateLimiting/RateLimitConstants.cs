namespace Gatehouse.RateLimiting;

/// <summary>Defaults of <see cref="RateLimitOptions"/>.</summary>
public static class RateLimitConstants
{
    public const string SectionName = "RateLimits";
    public const int DefaultMaxWaitMs = 1000;
    public const int MaxWaitCapMs = 30_000;
    public const int LeaseSafetyMarginMs = 20;
    public const double MaxBatchShare = 0.25;
    public const int DefaultMaxTokensEstimate = 256;
    public const int ImageTokenEstimate = 765;
    public const double ConcurrencyLeaseSeconds = 10;
    /// <summary>OpenAI's documented per-message framing cost, plus the reply's priming tokens once per request.</summary>
    public const int PerMessageOverheadTokens = 3;
    public const int ReplyPrimingTokens = 3;
}
