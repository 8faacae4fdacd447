namespace Gatehouse;

/// <summary>Names of the Orleans grain storage providers Gatehouse's grains persist through; the host registers each.</summary>
public static class GatehouseStorageNames
{
    /// <summary>The quota authorities' grant records (upstream buckets, app quotas, concurrency caps).</summary>
    public const string Quota = "gatehouse-quota";
}
