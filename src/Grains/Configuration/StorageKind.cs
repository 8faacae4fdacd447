namespace Gatehouse.Configuration;

/// <summary>Where grain state (the quota authorities' grant records) is kept.</summary>
public enum StorageKind
{
    /// <summary>In the silos' memory: lost when the silo holding it stops. For one silo, demos and tests.</summary>
    Memory,

    /// <summary>PostgreSQL (Orleans ADO.NET grain storage and reminders): survives any silo.</summary>
    PostgreSql,
}
