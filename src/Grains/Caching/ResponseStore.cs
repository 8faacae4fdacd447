using Gatehouse.Chat;
using Gatehouse.Configuration;
using Microsoft.Extensions.Options;

namespace Gatehouse.Caching;

/// <summary>
/// The silo's stored answers: one byte budget (<see cref="CacheOptions.MaxBytesPerSilo"/>) for every cache shard hosted
/// here and for the near cache of answers this silo's callers fetched from shards elsewhere, chat answers and
/// embedding vectors alike (their keys never collide: see <see cref="EmbeddingCacheKeys"/>); least recently used first
/// out, and an entry is never served past its expiry.
/// </summary>
/// <remarks>
/// Thread-safe singleton behind one short lock (no await or callback under it). Sizes are estimates of what an entry
/// holds on the managed heap (<see cref="StoredAnswer.Bytes"/>), so the budget bounds the process's memory and not only
/// the answers' text. An expired entry is dropped when it is read, or when the least recently used end reaches it.
/// </remarks>
public sealed class ResponseStore(IOptionsMonitor<GatehouseOptions> options, TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;
    private long _evictions;

    /// <summary>Bytes the stored entries are estimated to take.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Entries dropped to stay within the budget (expired ones not counted).</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>The answer stored under <paramref name="key"/> if it has not expired; marks it most recently used.</summary>
    public StoredAnswer? TryGet(string key) => TryGet<StoredAnswer>(key);

    /// <summary>The entry of type <typeparamref name="T"/> stored under <paramref name="key"/> if it has not expired; marks it most recently used.</summary>
    public T? TryGet<T>(string key)
        where T : class, IStoredEntry
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }

            if (node.Value.Answer.ExpiresAt <= timeProvider.GetUtcNow())
            {
                RemoveLocked(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Answer as T;
        }
    }

    /// <summary>Stores <paramref name="answer"/> (replacing an older one), evicting the least recently used to make room.</summary>
    /// <returns>False when the answer alone is larger than the budget, and is not stored.</returns>
    public bool Put(string key, IStoredEntry answer)
    {
        var budget = options.CurrentValue.Cache.MaxBytesPerSilo;
        var size = answer.Bytes + EntryOverheadBytes(key);
        if (size > budget)
        {
            return false;
        }

        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                RemoveLocked(existing);
            }

            var now = timeProvider.GetUtcNow();
            while (_bytes + size > budget && _recency.Last is { } oldest)
            {
                if (oldest.Value.Answer.ExpiresAt > now)
                {
                    _evictions++;
                }

                RemoveLocked(oldest);
            }

            var node = _recency.AddFirst(new Entry(key, answer, size));
            _entries[key] = node;
            _bytes += size;
            return true;
        }
    }

    /// <summary>Drops the entry stored under <paramref name="key"/>, if any.</summary>
    public void Remove(string key)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                RemoveLocked(node);
            }
        }
    }

    private void RemoveLocked(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    /// <summary>The key (UTF-16), the dictionary entry and the list node.</summary>
    private static long EntryOverheadBytes(string key) => 2L * key.Length + 160;

    private sealed record Entry(string Key, IStoredEntry Answer, long Size);
}
