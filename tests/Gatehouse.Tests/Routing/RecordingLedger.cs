using System.Collections.Concurrent;
using Gatehouse.Ledger;

namespace Gatehouse.Tests.Routing;

/// <summary>A usage ledger that keeps every record, with a barrier for a number of them.</summary>
internal sealed class RecordingLedger : IUsageLedger
{
    private readonly ConcurrentQueue<UsageRecord> _records = new();
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _awaited = [];

    public IReadOnlyList<UsageRecord> Records => [.. _records];

    public long Dropped => 0;

    public long Written => _records.Count;

    public int Pending => 0;

    public ValueTask RecordAsync(UsageRecord record)
    {
        _records.Enqueue(record);
        lock (_lock)
        {
            foreach (var awaited in _awaited.Where(a => _records.Count >= a.Count).ToList())
            {
                awaited.Reached.TrySetResult();
                _awaited.Remove(awaited);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Completes when <paramref name="count"/> records have arrived (a phase barrier).</summary>
    public Task Reached(int count)
    {
        lock (_lock)
        {
            if (_records.Count >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaited.Add((count, reached));
            return reached.Task;
        }
    }
}
