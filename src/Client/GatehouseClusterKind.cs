namespace Gatehouse.Client;

/// <summary>How the client finds the silos of a Gatehouse cluster.</summary>
public enum GatehouseClusterKind
{
    /// <summary>One or more silos on this machine, reached on 127.0.0.1 at <see cref="GatehouseClientOptions.GatewayPort"/>.</summary>
    Localhost = 0,

    /// <summary>A fixed list of silo gateway endpoints, <see cref="GatehouseClientOptions.Gateways"/>.</summary>
    StaticGateways = 1,

    /// <summary>
    /// The silos' ADO.NET membership table in PostgreSQL (<see cref="GatehouseClientOptions.ConnectionString"/>): the
    /// client reads the live gateways from it, so silos may come, go and move without a configuration change.
    /// </summary>
    AdoNet = 2,
}
