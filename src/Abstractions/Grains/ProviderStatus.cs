namespace Gatehouse.Grains;

/// <summary>What a silo learns back from the provider grain: the circuit state and the rest of the cluster's load.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ProviderStatus")]
public sealed record ProviderStatus
{
    [Id(0)] public CircuitState Circuit { get; init; }
    /// <summary>For an open circuit: how long until the break ends (a duration, because silos' clocks differ).</summary>
    [Id(1)] public TimeSpan OpenFor { get; init; }
    /// <summary>Calls the other silos had in flight at their latest reports.</summary>
    [Id(2)] public int OtherSilosInFlight { get; init; }
}
