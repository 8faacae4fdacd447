namespace Gatehouse.Errors;

/// <summary>Classifies <see cref="GatewayError"/> values for failover.</summary>
public static class GatewayErrorExtensions
{
    /// <summary>Whether another target or fallback may succeed where this one failed.</summary>
    public static bool IsRetryable(this GatewayError error) => error is
        GatewayError.RateLimited or GatewayError.UpstreamFailed or GatewayError.UpstreamAuthFailed
        or GatewayError.UpstreamTimeout or GatewayError.NoTargetAvailable;
}
