namespace Gatehouse.Grains;

/// <summary>A holder's wish for concurrency slots: the total it wants to hold after the call.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.SlotRequest")]
public sealed record SlotRequest
{
    [Id(0)] public required string HolderId { get; init; }
    /// <summary>Slots the holder wants to hold in total (0 gives all back).</summary>
    [Id(1)] public int Wanted { get; init; }
    /// <summary>Slots the holder cannot do without (in flight + the caller's one, if any): the extra one is refused when the cap is reached.</summary>
    [Id(2)] public int Needed { get; init; }
    [Id(3)] public TimeSpan MaxWait { get; init; }
    /// <summary>Slots in use by calls under way on the holder: never taken away, even when the cap is squeezed.</summary>
    [Id(4)] public int InFlight { get; init; }
    /// <summary>Increases with every request of this holder: the holder applies only the answer to its newest request.</summary>
    [Id(5)] public long Sequence { get; init; }
}
