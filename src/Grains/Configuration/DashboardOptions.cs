namespace Gatehouse.Configuration;

/// <summary>The Orleans Dashboard served by each silo (<c>Gatehouse:Dashboard</c>), behind the admin key.</summary>
public sealed class DashboardOptions
{
    /// <summary>Whether the silo serves the dashboard. The default value is false; true requires <c>AdminKey</c>.</summary>
    public bool Enabled { get; set; }
    /// <summary>Where it is served. The default value is <c>/dashboard</c>.</summary>
    public string PathPrefix { get; set; } = "/dashboard";
}
