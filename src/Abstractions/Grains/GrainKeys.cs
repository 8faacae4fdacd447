namespace Gatehouse.Grains;

/// <summary>The key formats of Gatehouse's grains, in one place.</summary>
public static class GrainKeys
{
    /// <summary>The key of the stateless <see cref="IGatewayGrain"/> for callers inside the cluster.</summary>
    public const long Gateway = 0;

    /// <summary>
    /// How many keys grain clients spread their <see cref="IGatewayGrain"/> calls over (0 to this, exclusive). Orleans'
    /// client sends every call for one grain id through one gateway silo; with one key, every call of a client would
    /// go through the same silo, however many there are.
    /// </summary>
    public const int GatewayKeysForClients = 16;

    /// <summary><see cref="IRouterGrain"/> key: the model alias as configured (case-sensitive).</summary>
    public static string Router(string alias) => alias;

    /// <summary><see cref="IProviderGrain"/> key: the provider name as configured.</summary>
    public static string Provider(string providerName) => providerName;

    /// <summary><see cref="IUpstreamQuotaGrain"/> key: the provider name as configured.</summary>
    public static string UpstreamQuota(string providerName) => providerName;

    /// <summary>
    /// <see cref="IResponseCacheGrain"/> key: the lowercase hex SHA-256 of the request's canonical form, which includes
    /// a version salt and the cache namespace (the app id, or the app's <c>CacheNamespace</c>), e.g. <c>3f9a…</c> (64 chars).
    /// </summary>
    public static string ResponseCache(ReadOnlySpan<byte> requestHash) => Convert.ToHexStringLower(requestHash);

    /// <summary>How many cache shards there are: enough to spread hashes over the silos, few enough to stay activated.</summary>
    public const int ResponseCacheShards = 64;

    /// <summary>
    /// <see cref="IResponseCacheGrain"/> key: the shard a request hash (<see cref="ResponseCache"/>) falls in, taken from
    /// its first hex digits, e.g. <c>cache-17</c>.
    /// </summary>
    public static string ResponseCacheShard(string entryKey) =>
        ShardKeys[int.Parse(entryKey.AsSpan(0, 4), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) % ResponseCacheShards];

    private static readonly string[] ShardKeys = [.. Enumerable.Range(0, ResponseCacheShards).Select(i => $"cache-{i}")];

    /// <summary>
    /// <see cref="IEmbeddingCacheGrain"/> key: the shard an input or flight key (64 lowercase hex digits) falls in, taken
    /// from its first hex digits, e.g. <c>embed-17</c>.
    /// </summary>
    public static string EmbeddingCacheShard(string entryKey) =>
        EmbeddingShardKeys[int.Parse(entryKey.AsSpan(0, 4), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) % ResponseCacheShards];

    private static readonly string[] EmbeddingShardKeys = [.. Enumerable.Range(0, ResponseCacheShards).Select(i => $"embed-{i}")];

    /// <summary><see cref="IAppQuotaGrain"/> key: the app id as configured.</summary>
    public static string AppQuota(string appId) => appId;

    /// <summary><see cref="IBudgetGrain"/> key: the app id as configured or created.</summary>
    public static string Budget(string appId) => appId;

    /// <summary><see cref="IAppGrain"/> key: the app id as configured or created (case-sensitive).</summary>
    public static string App(string appId) => appId;

    /// <summary>The one key of <see cref="IAppDirectoryGrain"/>.</summary>
    public const string AppDirectory = "apps";
}
