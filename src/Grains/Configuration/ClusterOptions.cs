namespace Gatehouse.Configuration;

/// <summary>How this silo joins its cluster (<c>Gatehouse:Cluster</c>), read by the silo host.</summary>
public sealed class ClusterOptions
{
    /// <summary>The default value is <see cref="ClusterKind.Localhost"/>.</summary>
    [DefinedValue]
    public ClusterKind Kind { get; set; } = ClusterKind.Localhost;
    public string ClusterId { get; set; } = "gatehouse";
    public string ServiceId { get; set; } = "gatehouse";
    [SettingRange(1, SettingBounds.MaxPort)]
    public int SiloPort { get; set; } = 11111;
    [SettingRange(1, SettingBounds.MaxPort)]
    public int GatewayPort { get; set; } = 30000;
    /// <summary>For <c>Localhost</c>: the silo endpoint of the primary silo when this is not it.</summary>
    [SettingRange(1, SettingBounds.MaxPort)]
    public int? PrimarySiloPort { get; set; }

    /// <summary>
    /// The address other silos and grain clients reach this silo at: an IP address, or a host name resolved once at start
    /// (a container's service name). The default value is <c>127.0.0.1</c>; any other address makes the silo listen on
    /// all interfaces.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>For <c>AdoNet</c>: the Npgsql connection string of the membership database (<c>env:NAME</c> reads a variable).</summary>
    public string? ConnectionString { get; set; }
}
