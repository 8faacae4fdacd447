using Gatehouse.Configuration;

namespace Gatehouse.Health;

/// <summary>A provider's circuit breaker (<c>Providers:&lt;name&gt;:CircuitBreaker</c>).</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Consecutive failed calls (5xx, timeouts, connection and upstream-auth failures, counted cluster-wide) that open the circuit. The default value is 5.</summary>
    [SettingRange(1, SettingBounds.MaxFailureThreshold)]
    public int FailureThreshold { get; set; } = ResilienceConstants.DefaultFailureThreshold;
    /// <summary>How long an opened circuit stays open before one probe may test the upstream. The default value is 10 seconds.</summary>
    [SettingRange(0d, SettingBounds.MaxLeaseSeconds, MinimumIsExclusive = true)]
    public double BreakSeconds { get; set; } = ResilienceConstants.DefaultBreakSeconds;
}
