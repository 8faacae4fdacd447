using System.Collections.Immutable;

namespace Gatehouse.Apps;

/// <summary>Every app id with the directory version of its last change, and the directory's own version.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.AppDirectoryEntries")]
public sealed record AppDirectoryEntries
{
    /// <summary>Increases with every change to any app: a silo that has loaded this version has nothing to reload.</summary>
    [Id(0)] public long Version { get; init; }
    /// <summary>App id → the <see cref="Version"/> at which it last changed.</summary>
    [Id(1)] public ImmutableDictionary<string, long> Apps { get; init; } = ImmutableDictionary<string, long>.Empty;
}
