namespace Gatehouse.Errors;

/// <summary>Why a request failed. Mapped to an HTTP status in one place (<c>GatewayErrorStatus</c> in the silo).</summary>
public enum GatewayError
{
    None = 0,
    /// <summary>The request is malformed or invalid (400).</summary>
    InvalidRequest = 1,
    /// <summary>No or unknown app key (401).</summary>
    Unauthenticated = 2,
    /// <summary>The app may not use this model alias (403).</summary>
    ModelNotAllowed = 3,
    /// <summary>No such model alias (404).</summary>
    ModelNotFound = 4,
    /// <summary>The request body is larger than allowed (413).</summary>
    PayloadTooLarge = 5,
    /// <summary>The app's quota or an upstream bucket is exhausted (429).</summary>
    RateLimited = 6,
    /// <summary>The upstream failed: 5xx, overloaded, connection refused (retryable; 502 when nothing else answers).</summary>
    UpstreamFailed = 7,
    /// <summary>The upstream rejected the gateway's provider key (retryable elsewhere; 502, never 401).</summary>
    UpstreamAuthFailed = 8,
    /// <summary>The upstream did not answer in its configured time (504 when nothing else answers).</summary>
    UpstreamTimeout = 9,
    /// <summary>The prompt is longer than the model's context window (400 unless a larger-context alias answers).</summary>
    ContextLengthExceeded = 10,
    /// <summary>Every target and fallback was unavailable (503).</summary>
    NoTargetAvailable = 11,
    /// <summary>The caller went away.</summary>
    Canceled = 12,
    /// <summary>An admin API resource (an app, a key) that does not exist: 404.</summary>
    NotFound = 13,
    /// <summary>An admin API resource that exists already: 409.</summary>
    Conflict = 14,
    /// <summary>The app's budget for the day or the month is spent (429, OpenAI's <c>insufficient_quota</c>) until it resets.</summary>
    BudgetExhausted = 15,
}
