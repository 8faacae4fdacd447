namespace Gatehouse.Caching;

/// <summary>What the silo's <see cref="ResponseStore"/> needs of an entry: when it stops being served, and its size.</summary>
public interface IStoredEntry
{
    DateTimeOffset ExpiresAt { get; }

    /// <summary>What the entry takes on the managed heap, estimated.</summary>
    long Bytes { get; }
}
