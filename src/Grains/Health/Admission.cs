namespace Gatehouse.Health;

/// <summary>Whether a target may be called now, as this silo sees its circuit.</summary>
public enum Admission
{
    /// <summary>The circuit is closed: call it.</summary>
    Allowed = 0,
    /// <summary>The break is over: ask the provider grain for the probe permit before calling.</summary>
    Probe = 1,
    /// <summary>The circuit is open (or another probe is under way): skip it.</summary>
    Rejected = 2,
}
