using System.ComponentModel.DataAnnotations;

namespace Gatehouse.Configuration;

/// <summary>The <c>Gatehouse</c> configuration section (see the README for the schema by example).</summary>
public sealed class GatehouseOptions
{
    public const string SectionName = "Gatehouse";

    /// <summary>Upstreams by name.</summary>
    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Model aliases by name: what callers put in <c>model</c>.</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Applications (tenants) by id.</summary>
    public Dictionary<string, AppOptions> Apps { get; set; } = new(StringComparer.Ordinal);
    public CacheOptions Cache { get; set; } = new();
    /// <summary>How requests queue for and draw on the distributed rate-limit buckets.</summary>
    public RateLimiting.RateLimitOptions RateLimits { get; set; } = new();
    /// <summary>The admin API key (or <c>env:NAME</c>); the admin API is off when unset.</summary>
    public string? AdminKey { get; set; }
    public ClusterOptions Cluster { get; set; } = new();
    public StorageOptions Storage { get; set; } = new();
    /// <summary>Largest request body accepted, in bytes. The default value is 4 MiB.</summary>
    [Range(1, SettingBounds.MaxBytes)]
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;
    /// <summary>
    /// Whether image parts may name <c>http:</c> URLs (for a local model server on a trusted network). The default value
    /// is false: only <c>https:</c> and <c>data:</c> URLs are accepted, so the gateway is never a way to reach local files
    /// or internal services.
    /// </summary>
    public bool AllowHttpImageUrls { get; set; }
    public RoutingOptions Routing { get; set; } = new();
    public DashboardOptions Dashboard { get; set; } = new();
    public ResponsesOptions Responses { get; set; } = new();
}

/// <summary>The Responses API's stored responses (<c>Gatehouse:Responses</c>).</summary>
public sealed class ResponsesOptions
{
    /// <summary>How long a stored response (<c>store: true</c>) can be read and continued. The default value is 30 days.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>
    /// With <c>Storage:Kind</c> <c>Memory</c>: the most memory one silo's stored responses may take, in MiB (serialized);
    /// the oldest are dropped first. The default value is 256.
    /// </summary>
    [Range(1, 1024 * 1024)]
    public int MemoryLimitMb { get; set; } = 256;
}

/// <summary>The Orleans Dashboard served by each silo (<c>Gatehouse:Dashboard</c>), behind the admin key.</summary>
public sealed class DashboardOptions
{
    /// <summary>Whether the silo serves the dashboard. The default value is false; true requires <c>AdminKey</c>.</summary>
    public bool Enabled { get; set; }
    /// <summary>Where it is served. The default value is <c>/dashboard</c>.</summary>
    public string PathPrefix { get; set; } = "/dashboard";
}

/// <summary>Silo-wide routing settings (<c>Gatehouse:Routing</c>).</summary>
public sealed class RoutingOptions
{
    /// <summary>
    /// The whole request's wait deadline when it sends no <c>x-gatehouse-max-wait-ms</c>: app quota, every target's
    /// buckets and slots, and the wait for a recovery probe when every target is behind an open circuit, together.
    /// The default value is 5000 ms.
    /// </summary>
    [Range(0, SettingBounds.MaxMilliseconds)]
    public int MaxWaitMs { get; set; } = ResilienceConstants.DefaultMaxWaitMs;
}

/// <summary>Defaults of the resilience settings, in one place.</summary>
public static class ResilienceConstants
{
    public const int DefaultMaxWaitMs = 5000;
    public const int DefaultRetries = 0;
    public const int DefaultRetryDelayMs = 200;
    public const int DefaultFailureThreshold = 5;
    public const double DefaultBreakSeconds = 10;
}

/// <summary>A provider's circuit breaker (<c>Providers:&lt;name&gt;:CircuitBreaker</c>).</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Consecutive failed calls (5xx, timeouts, connection and upstream-auth failures, counted cluster-wide) that open the circuit. The default value is 5.</summary>
    [Range(1, SettingBounds.MaxFailureThreshold)]
    public int FailureThreshold { get; set; } = ResilienceConstants.DefaultFailureThreshold;
    /// <summary>How long an opened circuit stays open before one probe may test the upstream. The default value is 10 seconds.</summary>
    [Range(0d, SettingBounds.MaxLeaseSeconds, MinimumIsExclusive = true)]
    public double BreakSeconds { get; set; } = ResilienceConstants.DefaultBreakSeconds;
}

/// <summary>Defaults and bounds of provider settings.</summary>
public static class ProviderConstants
{
    public const int DefaultMaxResponseBytes = 16 * 1024 * 1024;
    public const int MinMaxResponseBytes = 1024;
    public const int MaxMaxResponseBytes = 1024 * 1024 * 1024;
}

/// <summary>Provider kinds known to the gateway.</summary>
public static class ProviderKinds
{
    public const string OpenAI = "OpenAI";
    public const string OpenAICompatible = "OpenAICompatible";
    public const string Anthropic = "Anthropic";
    public const string Ollama = "Ollama";
    public const string Gemini = "Gemini";
    public const string Simulated = "Simulated";
}

/// <summary>One upstream.</summary>
public sealed class ProviderOptions
{
    /// <summary>One of <see cref="ProviderKinds"/>.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The upstream's base URL; the vendor's public endpoint when unset.</summary>
    public string? BaseUrl { get; set; }
    /// <summary>The provider key, or <c>env:NAME</c> to read it from an environment variable.</summary>
    public string? ApiKey { get; set; }
    /// <summary>At most this many requests in any 60 seconds, across the cluster.</summary>
    [Range(1, SettingBounds.MaxRequestsPerMinute)]
    public int? RequestsPerMinute { get; set; }
    /// <summary>How many of <see cref="RequestsPerMinute"/> may start at once when the bucket is full (1..RequestsPerMinute). The default value is the whole limit.</summary>
    [Range(1, SettingBounds.MaxRequestsPerMinute)]
    public int? Burst { get; set; }
    [Range(1, SettingBounds.MaxTokensPerMinute)]
    public int? TokensPerMinute { get; set; }
    [Range(1, SettingBounds.MaxConcurrency)]
    public int? MaxConcurrency { get; set; }
    /// <summary>Completion tokens assumed for a request without <c>max_tokens</c> when estimating its token cost; <c>RateLimits:DefaultMaxTokensEstimate</c> when unset.</summary>
    [Range(1, SettingBounds.MaxTokensEstimate)]
    public int? DefaultMaxTokensEstimate { get; set; }
    /// <summary>Time allowed for one upstream call. The default value is 60 seconds.</summary>
    [Range(0d, SettingBounds.MaxTimeoutSeconds, MinimumIsExclusive = true, ErrorMessage = "an upstream call must end within the ten-minute grain call it runs in")]
    public double TimeoutSeconds { get; set; } = 60;
    /// <summary>
    /// Anthropic only: the <c>max_tokens</c> sent when the caller set none (Anthropic requires one).
    /// The default value is 4096 (<c>AnthropicConstants.DefaultMaxTokens</c>).
    /// </summary>
    [Range(1, SettingBounds.MaxDefaultMaxTokens)]
    public int? DefaultMaxTokens { get; set; }
    /// <summary>
    /// Retries on this same provider after a retryable failure (5xx, timeout, connection failure, 429 with a short
    /// <c>retry-after</c>) before the router moves on to the next target. The default value is 0: the alias's other
    /// targets and fallbacks are the first remedy, and a retry spends the upstream's quota again.
    /// </summary>
    [Range(0, SettingBounds.MaxRetries)]
    public int Retries { get; set; } = ResilienceConstants.DefaultRetries;
    /// <summary>Base delay of the exponential, jittered backoff between retries (the upstream's <c>retry-after</c> wins). The default value is 200 ms.</summary>
    [Range(0, SettingBounds.MaxMilliseconds)]
    public int RetryDelayMs { get; set; } = ResilienceConstants.DefaultRetryDelayMs;
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
    /// <summary>
    /// Largest upstream answer read, in bytes (a whole JSON body, or a stream's bytes together); a larger one fails the
    /// call as an upstream failure. The default value is 16 MiB (<see cref="ProviderConstants.DefaultMaxResponseBytes"/>).
    /// </summary>
    [Range(ProviderConstants.MinMaxResponseBytes, ProviderConstants.MaxMaxResponseBytes)]
    public int MaxResponseBytes { get; set; } = ProviderConstants.DefaultMaxResponseBytes;

    /// <summary>Simulated only: delay before answering. The default value is 20 ms.</summary>
    [Range(0, SettingBounds.MaxMilliseconds)]
    public int LatencyMs { get; set; } = 20;
    /// <summary>Simulated only: share of calls that fail with a 503-like error (0..1). The default value is 0.</summary>
    [Range(0d, 1d)]
    public double FailureRate { get; set; }
    /// <summary>Simulated only: delay between streamed chunks. The default value is 0 ms.</summary>
    [Range(0, SettingBounds.MaxMilliseconds)]
    public int StreamChunkDelayMs { get; set; }
}

/// <summary>One model alias.</summary>
/// <summary>Which endpoint a model alias serves.</summary>
public enum ModelType
{
    /// <summary>Chat Completions, Messages, Responses and the grain client's chat.</summary>
    Chat = 0,

    /// <summary><c>POST /v1/embeddings</c> and the grain client's embeddings.</summary>
    Embeddings = 1,
}

public sealed class ModelOptions
{
    /// <summary>The endpoint the alias serves. The default value is <see cref="ModelType.Chat"/>.</summary>
    public ModelType Type { get; set; } = ModelType.Chat;
    /// <summary>Load-balancing strategy. The default value is <c>RoundRobin</c>.</summary>
    public string Strategy { get; set; } = "RoundRobin";
    public List<TargetOptions> Targets { get; set; } = [];
    /// <summary>Aliases tried in order when every target failed with a retryable error.</summary>
    public List<string> Fallbacks { get; set; } = [];
    /// <summary>Aliases (with larger context windows) tried in order when a target says the prompt is too long.</summary>
    public List<string> ContextWindowFallbacks { get; set; } = [];
    /// <summary>
    /// When the first target has not answered after this many milliseconds (a whole answer, or a stream's first chunk),
    /// the next target is called too and the first to answer wins (the other call is cancelled). The default value is
    /// null: no hedging.
    /// </summary>
    [Range(1, SettingBounds.MaxMilliseconds)]
    public int? HedgeAfterMs { get; set; }
    public PricingOptions? Pricing { get; set; }
}

public sealed class TargetOptions
{
    public string Provider { get; set; } = "";
    public string Model { get; set; } = "";
    [Range(0d, SettingBounds.MaxWeight, MinimumIsExclusive = true)]
    public double Weight { get; set; } = 1;
}

public sealed class PricingOptions
{
    [Range(0d, SettingBounds.MaxPricePerMillion)]
    public double InputPerMillion { get; set; }
    [Range(0d, SettingBounds.MaxPricePerMillion)]
    public double OutputPerMillion { get; set; }
    /// <summary>The rate of prompt tokens the upstream read from its prompt cache; unset: <see cref="InputPerMillion"/>.</summary>
    [Range(0d, SettingBounds.MaxPricePerMillion)]
    public double? CachedInputPerMillion { get; set; }
}

/// <summary>One application (tenant).</summary>
public sealed class AppOptions
{
    /// <summary>The app's keys, in plain text or as <c>sha256:&lt;hex&gt;</c>; only their hashes are kept in memory.</summary>
    public List<string> Keys { get; set; } = [];
    /// <summary>At most this many requests in any 60 seconds, across the cluster.</summary>
    [Range(1, SettingBounds.MaxRequestsPerMinute)]
    public int? RequestsPerMinute { get; set; }
    /// <summary>How many of <see cref="RequestsPerMinute"/> may start at once when the bucket is full (1..RequestsPerMinute). The default value is the whole limit.</summary>
    [Range(1, SettingBounds.MaxRequestsPerMinute)]
    public int? Burst { get; set; }
    [Range(1, SettingBounds.MaxTokensPerMinute)]
    public int? TokensPerMinute { get; set; }
    [Range(0d, SettingBounds.MaxBudgetUsdPerDay)]
    public double? BudgetUsdPerDay { get; set; }
    [Range(0d, SettingBounds.MaxBudgetUsdPerMonth)]
    public double? BudgetUsdPerMonth { get; set; }
    /// <summary><c>High</c>, <c>Normal</c> or <c>Low</c>: who is served first when a bucket is empty. The default value is <c>Normal</c>.</summary>
    public Grains.RequestPriority Priority { get; set; } = Grains.RequestPriority.Normal;
    /// <summary>Completion tokens assumed for this app's requests without <c>max_tokens</c> (app bucket); the provider's or the global default when unset.</summary>
    [Range(1, SettingBounds.MaxTokensEstimate)]
    public int? DefaultMaxTokensEstimate { get; set; }
    /// <summary>Aliases the app may use; every alias when empty.</summary>
    public List<string> Models { get; set; } = [];
    /// <summary>
    /// The cache namespace the app's entries live in; apps naming the same namespace share entries. The default value is
    /// null: the app id, so no other app sees the app's answers.
    /// </summary>
    public string? CacheNamespace { get; set; }
    /// <summary>
    /// Cache and de-duplicate every request of the app, not only deterministic ones (temperature 0 or a seed).
    /// The default value is false.
    /// </summary>
    public bool CacheAllRequests { get; set; }
}

/// <summary>The response cache and single-flight de-duplication (see <c>Caching/ResponseCacheGrain</c> and <c>Caching/ResponseStore</c>).</summary>
public sealed class CacheOptions
{
    /// <summary>Whether eligible requests are cached and de-duplicated. The default value is true.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How long a stored answer is served. The default value is 3600 seconds.</summary>
    [Range(1, SettingBounds.MaxTtlSeconds)]
    public int TtlSeconds { get; set; } = CacheConstants.DefaultTtlSeconds;
    /// <summary>Largest answer stored, in bytes (a larger one is returned but not stored). The default value is 1 MiB.</summary>
    [Range(1, SettingBounds.MaxBytes)]
    public int MaxEntryBytes { get; set; } = CacheConstants.DefaultMaxEntryBytes;
    /// <summary>
    /// What this silo's stored answers may take on the heap, in bytes (estimated: text as UTF-16 plus a fixed cost per
    /// chunk and entry); the least recently used are dropped to stay within it. The default value is 16 MiB, which keeps
    /// a loaded silo near the 250 MB RSS goal (the README says how to size it).
    /// </summary>
    [Range(64 * 1024, SettingBounds.MaxBytes)]
    public long MaxBytesPerSilo { get; set; } = CacheConstants.DefaultMaxBytesPerSilo;
}

/// <summary>Defaults and fixed values of the response cache.</summary>
public static class CacheConstants
{
    public const int DefaultTtlSeconds = 3600;
    public const int DefaultMaxEntryBytes = 1024 * 1024;
    public const long DefaultMaxBytesPerSilo = 16L * 1024 * 1024;
}

/// <summary>How the silos of a cluster find each other.</summary>
public enum ClusterKind
{
    /// <summary>Silos on one machine (127.0.0.1); the first is the primary the others join.</summary>
    Localhost,

    /// <summary>A membership table in PostgreSQL (Orleans ADO.NET clustering): any number of machines, no primary.</summary>
    AdoNet,
}

/// <summary>Where grain state (the quota authorities' grant records) is kept.</summary>
public enum StorageKind
{
    /// <summary>In the silos' memory: lost when the silo holding it stops. For one silo, demos and tests.</summary>
    Memory,

    /// <summary>PostgreSQL (Orleans ADO.NET grain storage and reminders): survives any silo.</summary>
    PostgreSql,
}

public sealed class ClusterOptions
{
    /// <summary>The default value is <see cref="ClusterKind.Localhost"/>.</summary>
    public ClusterKind Kind { get; set; } = ClusterKind.Localhost;
    public string ClusterId { get; set; } = "gatehouse";
    public string ServiceId { get; set; } = "gatehouse";
    [Range(1, SettingBounds.MaxPort)]
    public int SiloPort { get; set; } = 11111;
    [Range(1, SettingBounds.MaxPort)]
    public int GatewayPort { get; set; } = 30000;
    /// <summary>For <c>Localhost</c>: the silo endpoint of the primary silo when this is not it.</summary>
    [Range(1, SettingBounds.MaxPort)]
    public int? PrimarySiloPort { get; set; }

    /// <summary>
    /// The address other silos and grain clients reach this silo at: an IP address, or a host name resolved once at start
    /// (a container's service name). The default value is <c>127.0.0.1</c>; any other address makes the silo listen on
    /// all interfaces.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>For <c>AdoNet</c>: the Npgsql connection string of the membership database (<c>env:NAME</c> reads a variable).</summary>
    public string? ConnectionString { get; set; }
}

public sealed class StorageOptions
{
    /// <summary>The default value is <see cref="StorageKind.Memory"/>.</summary>
    public StorageKind Kind { get; set; } = StorageKind.Memory;

    /// <summary>
    /// For <c>PostgreSql</c>: the Npgsql connection string (<c>env:NAME</c> reads a variable). The default value is
    /// <c>Cluster:ConnectionString</c>, so one database serves both.
    /// </summary>
    public string? ConnectionString { get; set; }
}
