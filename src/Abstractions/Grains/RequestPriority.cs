namespace Gatehouse.Grains;

/// <summary>How urgently a request wants capacity when a bucket is empty: waiters are served highest first.</summary>
public enum RequestPriority
{
    Low = 0,
    Normal = 1,
    High = 2,
}
