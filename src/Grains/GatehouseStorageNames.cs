namespace Gatehouse;

/// <summary>Names of the Orleans grain storage providers Gatehouse's grains persist through; the host registers each.</summary>
public static class GatehouseStorageNames
{
    /// <summary>The quota authorities' grant records (upstream buckets, app quotas, concurrency caps).</summary>
    public const string Quota = "gatehouse-quota";

    /// <summary>The Responses API's stored responses (<c>store: true</c>), kept for <c>Responses:RetentionDays</c>.</summary>
    public const string Responses = "gatehouse-responses";
}
