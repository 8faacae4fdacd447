namespace Gatehouse.Configuration;

/// <summary>Where grain state and stored responses are kept (<c>Gatehouse:Storage</c>), read by the silo host.</summary>
public sealed class StorageOptions
{
    /// <summary>The default value is <see cref="StorageKind.Memory"/>.</summary>
    [DefinedValue]
    public StorageKind Kind { get; set; } = StorageKind.Memory;

    /// <summary>
    /// For <c>PostgreSql</c>: the Npgsql connection string (<c>env:NAME</c> reads a variable). The default value is
    /// <c>Cluster:ConnectionString</c>, so one database serves both.
    /// </summary>
    public string? ConnectionString { get; set; }
}
