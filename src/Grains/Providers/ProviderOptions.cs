using Gatehouse.Configuration;
using Gatehouse.Health;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gatehouse.Providers;

/// <summary>One upstream.</summary>
public sealed class ProviderOptions : QuotaOptions
{
    /// <summary>One of <see cref="ProviderKinds"/>.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The upstream's base URL; the vendor's public endpoint when unset.</summary>
    public string? BaseUrl { get; set; }
    /// <summary>The provider key, or <c>env:NAME</c> to read it from an environment variable.</summary>
    public string? ApiKey { get; set; }
    [SettingRange(1, SettingBounds.MaxConcurrency)]
    public int? MaxConcurrency { get; set; }
    /// <summary>Completion tokens assumed for a request without <c>max_tokens</c> when estimating its token cost; <c>RateLimits:DefaultMaxTokensEstimate</c> when unset.</summary>
    [SettingRange(1, SettingBounds.MaxTokensEstimate)]
    public int? DefaultMaxTokensEstimate { get; set; }
    /// <summary>Time allowed for one upstream call. The default value is 60 seconds.</summary>
    [SettingRange(0d, SettingBounds.MaxTimeoutSeconds, MinimumIsExclusive = true, ErrorMessage = "an upstream call must end within the ten-minute grain call it runs in")]
    public double TimeoutSeconds { get; set; } = 60;
    /// <summary>
    /// Anthropic only: the <c>max_tokens</c> sent when the caller set none (Anthropic requires one).
    /// The default value is 4096 (<c>AnthropicConstants.DefaultMaxTokens</c>).
    /// </summary>
    [SettingRange(1, SettingBounds.MaxDefaultMaxTokens)]
    public int? DefaultMaxTokens { get; set; }
    /// <summary>
    /// Retries on this same provider after a retryable failure (5xx, timeout, connection failure, 429 with a short
    /// <c>retry-after</c>) before the router moves on to the next target. The default value is 0: the alias's other
    /// targets and fallbacks are the first remedy, and a retry spends the upstream's quota again.
    /// </summary>
    [SettingRange(0, SettingBounds.MaxRetries)]
    public int Retries { get; set; } = ResilienceConstants.DefaultRetries;
    /// <summary>Base delay of the exponential, jittered backoff between retries (the upstream's <c>retry-after</c> wins). The default value is 200 ms.</summary>
    [SettingRange(0, SettingBounds.MaxMilliseconds)]
    public int RetryDelayMs { get; set; } = ResilienceConstants.DefaultRetryDelayMs;
    [ValidateObjectMembers]
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
    /// <summary>
    /// Largest upstream answer read, in bytes (a whole JSON body, or a stream's bytes together); a larger one fails the
    /// call as an upstream failure. The default value is 16 MiB (<see cref="ProviderConstants.DefaultMaxResponseBytes"/>).
    /// </summary>
    [SettingRange(ProviderConstants.MinMaxResponseBytes, ProviderConstants.MaxMaxResponseBytes)]
    public int MaxResponseBytes { get; set; } = ProviderConstants.DefaultMaxResponseBytes;

    /// <summary>Simulated only: delay before answering. The default value is 20 ms.</summary>
    [SettingRange(0, SettingBounds.MaxMilliseconds)]
    public int LatencyMs { get; set; } = 20;
    /// <summary>Simulated only: share of calls that fail with a 503-like error (0..1). The default value is 0.</summary>
    [SettingRange(0d, 1d)]
    public double FailureRate { get; set; }
    /// <summary>Simulated only: delay between streamed chunks. The default value is 0 ms.</summary>
    [SettingRange(0, SettingBounds.MaxMilliseconds)]
    public int StreamChunkDelayMs { get; set; }
}
