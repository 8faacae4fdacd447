namespace Gatehouse.Apps;

/// <summary>One key of an application, as stored: its SHA-256 hash, never the key itself.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.AppKey")]
public sealed record AppKey
{
    /// <summary>The key's id, as the admin API names it (e.g. <c>key_3Fz9…</c>; <c>config-1</c> for a config-file key).</summary>
    [Id(0)] public required string Id { get; init; }
    /// <summary>Lowercase hex SHA-256 of the key.</summary>
    [Id(1)] public required string Hash { get; init; }
    /// <summary>The first characters of the key (e.g. <c>gk-abc1</c>), to recognise it; null for a config-file key.</summary>
    [Id(2)] public string? Prefix { get; init; }
    [Id(3)] public string? Name { get; init; }
    [Id(4)] public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Whether the key comes from the config file (replaced at each start) rather than the admin API.</summary>
    [Id(5)] public bool FromConfig { get; init; }
}
