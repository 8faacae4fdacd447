namespace Gatehouse.Health;

/// <summary>Defaults of the resilience settings, in one place.</summary>
public static class ResilienceConstants
{
    public const int DefaultMaxWaitMs = 5000;
    public const int DefaultRetries = 0;
    public const int DefaultRetryDelayMs = 200;
    public const int DefaultFailureThreshold = 5;
    public const double DefaultBreakSeconds = 10;
}
