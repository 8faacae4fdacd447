using Gatehouse.Errors;

namespace Gatehouse.Silo.Http;

/// <summary>The one place where a <see cref="GatewayError"/> becomes an HTTP status and an OpenAI error type and code.</summary>
internal static class GatewayErrorStatus
{
    public const int ClientClosedRequest = 499;

    public static int ToStatusCode(GatewayError error) => error switch
    {
        GatewayError.InvalidRequest or GatewayError.ContextLengthExceeded => StatusCodes.Status400BadRequest,
        GatewayError.Unauthenticated => StatusCodes.Status401Unauthorized,
        GatewayError.ModelNotAllowed => StatusCodes.Status403Forbidden,
        GatewayError.ModelNotFound => StatusCodes.Status404NotFound,
        GatewayError.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        GatewayError.RateLimited or GatewayError.BudgetExhausted => StatusCodes.Status429TooManyRequests,
        GatewayError.UpstreamFailed or GatewayError.UpstreamAuthFailed => StatusCodes.Status502BadGateway,
        GatewayError.NoTargetAvailable => StatusCodes.Status503ServiceUnavailable,
        GatewayError.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        GatewayError.Canceled => ClientClosedRequest,
        GatewayError.NotFound => StatusCodes.Status404NotFound,
        GatewayError.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>OpenAI's <c>error.type</c> and <c>error.code</c> for the error.</summary>
    public static (string Type, string? Code) ToOpenAITypeAndCode(GatewayError error) => error switch
    {
        GatewayError.InvalidRequest => ("invalid_request_error", null),
        GatewayError.ContextLengthExceeded => ("invalid_request_error", "context_length_exceeded"),
        GatewayError.Unauthenticated => ("invalid_request_error", "invalid_api_key"),
        GatewayError.ModelNotAllowed => ("permission_error", "model_not_allowed"),
        GatewayError.ModelNotFound => ("invalid_request_error", "model_not_found"),
        GatewayError.PayloadTooLarge => ("invalid_request_error", "request_too_large"),
        GatewayError.RateLimited => ("rate_limit_error", "rate_limit_exceeded"),
        GatewayError.BudgetExhausted => ("insufficient_quota", "insufficient_quota"),
        GatewayError.UpstreamAuthFailed => ("api_error", "upstream_auth_failed"),
        GatewayError.UpstreamFailed => ("api_error", "upstream_error"),
        GatewayError.NoTargetAvailable => ("api_error", "no_target_available"),
        GatewayError.UpstreamTimeout => ("api_error", "upstream_timeout"),
        GatewayError.Canceled => ("api_error", "canceled"),
        GatewayError.NotFound => ("invalid_request_error", "not_found"),
        GatewayError.Conflict => ("invalid_request_error", "conflict"),
        _ => ("api_error", null),
    };
}
