using System.Collections.Concurrent;
using Orleans.Storage;

namespace Gatehouse.Tests.Support;

/// <summary>
/// Grain storage shared by every silo of an in-process test cluster, standing in for the cluster's database: a record
/// outlives the silo that wrote it (Orleans' memory storage keeps it on one silo, so a kill could lose it). Writes are
/// checked against the ETag as a database provider does, and reads can be made to fail.
/// </summary>
/// <remarks>Thread-safe. Stored states are kept by reference: the writers under test hand over a fresh object per write.</remarks>
public sealed class SharedGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), (object Value, string ETag)> _records = new();
    private long _etag;
    private long _writes;

    /// <summary>While true, every read throws (an unreachable or corrupt record).</summary>
    public volatile bool FailReads;

    private volatile TaskCompletionSource? _writeGate;

    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Holds every write until the returned source is completed, as a slow database would.</summary>
    public TaskCompletionSource HoldWrites() => _writeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (FailReads)
        {
            throw new InvalidOperationException("The test storage is set to fail reads.");
        }

        if (_records.TryGetValue((stateName, grainId), out var record))
        {
            grainState.State = (T)record.Value;
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_writeGate is { } gate)
        {
            await gate.Task;
        }

        var key = (stateName, grainId);
        var etag = Interlocked.Increment(ref _etag).ToString(System.Globalization.CultureInfo.InvariantCulture);
        lock (_records)
        {
            var current = _records.TryGetValue(key, out var record) ? record.ETag : null;
            if (current != grainState.ETag)
            {
                throw new InconsistentStateException($"ETag mismatch for {grainId}", current ?? "", grainState.ETag ?? "");
            }

            _records[key] = (grainState.State!, etag);
        }

        Interlocked.Increment(ref _writes);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _records.TryRemove((stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
