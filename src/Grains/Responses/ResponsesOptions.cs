using Gatehouse.Configuration;

namespace Gatehouse.Responses;

/// <summary>The Responses API's stored responses (<c>Gatehouse:Responses</c>).</summary>
public sealed class ResponsesOptions
{
    /// <summary>How long a stored response (<c>store: true</c>) can be read and continued. The default value is 30 days.</summary>
    [SettingRange(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>
    /// With <c>Storage:Kind</c> <c>Memory</c>: the most memory one silo's stored responses may take, in MiB (serialized);
    /// the oldest are dropped first. The default value is 256.
    /// </summary>
    [SettingRange(1, 1024 * 1024)]
    public int MemoryLimitMb { get; set; } = 256;
}
