using Gatehouse.Configuration;

namespace Gatehouse.Caching;

/// <summary>The response cache and single-flight de-duplication (see <c>Caching/ResponseCacheGrain</c> and <c>Caching/ResponseStore</c>).</summary>
public sealed class CacheOptions
{
    /// <summary>Whether eligible requests are cached and de-duplicated. The default value is true.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How long a stored answer is served. The default value is 3600 seconds.</summary>
    [SettingRange(1, SettingBounds.MaxTtlSeconds)]
    public int TtlSeconds { get; set; } = CacheConstants.DefaultTtlSeconds;
    /// <summary>Largest answer stored, in bytes (a larger one is returned but not stored). The default value is 1 MiB.</summary>
    [SettingRange(1, SettingBounds.MaxBytes)]
    public int MaxEntryBytes { get; set; } = CacheConstants.DefaultMaxEntryBytes;
    /// <summary>
    /// What this silo's stored answers may take on the heap, in bytes (estimated: text as UTF-16 plus a fixed cost per
    /// chunk and entry); the least recently used are dropped to stay within it. The default value is 16 MiB, which keeps
    /// a loaded silo near the 250 MB RSS goal (the README says how to size it).
    /// </summary>
    [SettingRange(64 * 1024, SettingBounds.MaxBytes)]
    public long MaxBytesPerSilo { get; set; } = CacheConstants.DefaultMaxBytesPerSilo;
}
