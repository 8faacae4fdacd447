using Gatehouse.Embeddings;

namespace Gatehouse.Caching;

/// <summary>
/// The answer of an embeddings flight that just ended, kept a few seconds by its shard in the silo's
/// <see cref="ResponseStore"/>: a caller that looked its inputs up while the flight was running (and missed) reaches
/// the shard a moment after the flight ended, and must share its answer rather than start the same call again.
/// </summary>
public sealed class StoredFlight(EmbeddingResponse answer, DateTimeOffset expiresAt) : IStoredEntry
{
    /// <summary>Long beyond the gap between a caller's lookup and its flight call; short enough to hold little.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromSeconds(5);

    private const int OverheadBytes = 200;

    public EmbeddingResponse Answer { get; } = answer;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    public long Bytes { get; } = OverheadBytes + answer.Vectors.Sum(v => 4L * v.Length + 32) + 2L * answer.Model.Length;

    /// <summary>Its key in the store: never an input key (those are bare hex digits).</summary>
    public static string KeyOf(string flightKey) => "flight:" + flightKey;
}
