using Orleans.Serialization;
using Orleans.Storage;

namespace Gatehouse.Responses;

/// <summary>
/// Grain storage in this silo's memory that never takes more than a set number of bytes: records are kept serialized
/// (a copy, as a database keeps them, so no caller shares a stored object) and, when a write would pass the limit,
/// the records written longest ago are dropped.
/// </summary>
/// <remarks>
/// For <c>Storage:Kind</c> <c>Memory</c>, where nothing outlives the process anyway: Orleans' memory storage has no
/// limit, and stored responses grow with traffic. Thread-safe; writes are checked against the ETag.
/// </remarks>
public sealed class BoundedMemoryGrainStorage(Serializer serializer, long limitBytes) : IGrainStorage
{
    private readonly Dictionary<(string State, GrainId Grain), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _byAge = new();
    private long _bytes;
    private long _etag;

    /// <summary>The serialized size of everything kept.</summary>
    public long Bytes
    {
        get
        {
            lock (_entries)
            {
                return _bytes;
            }
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue((stateName, grainId), out var node))
            {
                grainState.State = serializer.Deserialize<T>(node.Value.Payload);
                grainState.ETag = node.Value.ETag;
                grainState.RecordExists = true;
            }
            else
            {
                grainState.ETag = null;
                grainState.RecordExists = false;
            }
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.SerializeToArray(grainState.State);
        lock (_entries)
        {
            var key = (stateName, grainId);
            CheckETag(key, grainState.ETag);
            Remove(key);
            var etag = (++_etag).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _entries[key] = _byAge.AddLast(new Entry(key, payload, etag));
            _bytes += payload.Length;
            while (_bytes > limitBytes && _byAge.First is { } oldest && oldest.Value.Key != key)
            {
                Remove(oldest.Value.Key);
            }

            grainState.ETag = etag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_entries)
        {
            var key = (stateName, grainId);
            CheckETag(key, grainState.ETag);
            Remove(key);
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    private void CheckETag((string, GrainId) key, string? expected)
    {
        var current = _entries.TryGetValue(key, out var node) ? node.Value.ETag : null;
        // A record dropped to make room may be written or cleared again by the grain that last read it.
        if (current is not null && current != expected)
        {
            throw new InconsistentStateException($"The record was written by another activation (ETag {current}, expected {expected ?? "none"}).", current, expected);
        }
    }

    private void Remove((string, GrainId) key)
    {
        if (_entries.Remove(key, out var node))
        {
            _byAge.Remove(node);
            _bytes -= node.Value.Payload.Length;
        }
    }

    private sealed record Entry((string State, GrainId Grain) Key, byte[] Payload, string ETag);
}
