namespace Gatehouse.RateLimiting.Authorities;

/// <summary>
/// What a quota authority has handed out, persisted before each grant takes effect (write-ahead), so an activation
/// that replaces it (after a silo died, a rolling deploy, a deactivation) resumes exactly where it stopped.
/// </summary>
/// <remarks>Stored through Orleans grain storage; ids are append-only, like every wire type.</remarks>
[GenerateSerializer, Alias("gatehouse.QuotaRecord")]
internal sealed class QuotaRecord
{
    /// <summary>The record's name in grain storage.</summary>
    public const string StateName = "quota";

    [Id(0)] public BucketRecord? Requests { get; set; }
    [Id(1)] public BucketRecord? Tokens { get; set; }
    /// <summary>Concurrency slots held per holder (silo), with their expiry.</summary>
    [Id(2)] public List<SlotHolderRecord> Slots { get; set; } = [];
}

/// <summary>One sliding-window bucket: units granted per 1-second UTC slot, oldest first, ending at <see cref="NewestSlot"/>.</summary>
[GenerateSerializer, Alias("gatehouse.BucketRecord")]
internal sealed class BucketRecord
{
    /// <summary>Seconds since year 1 (UTC) of the newest slot in <see cref="Granted"/>.</summary>
    [Id(0)] public long NewestSlot { get; set; }
    [Id(1)] public int[] Granted { get; set; } = [];
    /// <summary>The burst allowance at <see cref="BurstAtTicks"/> (UTC ticks); it refills at the limit's rate from there.</summary>
    [Id(2)] public double BurstTokens { get; set; }
    [Id(3)] public long BurstAtTicks { get; set; }
}

/// <summary>The concurrency slots one holder may use until <see cref="ExpiresAtTicks"/> (UTC ticks).</summary>
[GenerateSerializer, Alias("gatehouse.SlotHolderRecord")]
internal sealed class SlotHolderRecord
{
    [Id(0)] public string HolderId { get; set; } = "";
    [Id(1)] public int Held { get; set; }
    [Id(2)] public long ExpiresAtTicks { get; set; }
}
