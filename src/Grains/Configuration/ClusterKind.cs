namespace Gatehouse.Configuration;

/// <summary>How the silos of a cluster find each other.</summary>
public enum ClusterKind
{
    /// <summary>Silos on one machine (127.0.0.1); the first is the primary the others join.</summary>
    Localhost,

    /// <summary>A membership table in PostgreSQL (Orleans ADO.NET clustering): any number of machines, no primary.</summary>
    AdoNet,
}
