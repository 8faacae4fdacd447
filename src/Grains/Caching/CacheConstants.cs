namespace Gatehouse.Caching;

/// <summary>Defaults and fixed values of the response cache.</summary>
public static class CacheConstants
{
    public const int DefaultTtlSeconds = 3600;
    public const int DefaultMaxEntryBytes = 1024 * 1024;
    public const long DefaultMaxBytesPerSilo = 16L * 1024 * 1024;
}
