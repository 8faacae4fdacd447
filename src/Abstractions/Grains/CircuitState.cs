namespace Gatehouse.Grains;

/// <summary>The state of an upstream's circuit breaker.</summary>
public enum CircuitState
{
    /// <summary>Traffic flows.</summary>
    Closed = 0,
    /// <summary>The upstream failed too often: no traffic until the break ends.</summary>
    Open = 1,
    /// <summary>The break is over: one probe at a time decides whether the circuit closes or opens again.</summary>
    HalfOpen = 2,
}
