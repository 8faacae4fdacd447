namespace Gatehouse.Grains;

/// <summary>The answer to a probe request.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ProbePermit")]
public sealed record ProbePermit
{
    /// <summary>Whether the caller may send a request: the probe of a half-open circuit, or any request when <see cref="Circuit"/> is closed.</summary>
    [Id(0)] public bool Granted { get; init; }
    [Id(1)] public CircuitState Circuit { get; init; }
    /// <summary>When refused: how long until it is worth asking again.</summary>
    [Id(2)] public TimeSpan RetryAfter { get; init; }
}
