using Gatehouse.Ledger;

namespace Gatehouse.Tests.Ledger;

/// <summary>A sink that keeps each batch, can be held shut, and can fail a number of writes first.</summary>
internal sealed class RecordingSink : IUsageSink
{
    private readonly Lock _lock = new();
    private readonly List<UsageRecord[]> _batches = [];
    private int _failuresLeft;

    /// <summary>While not completed, every write waits for it.</summary>
    public TaskCompletionSource Gate { get; set; } = CompletedGate();

    public int Attempts { get; private set; }

    public void FailNext(int writes) => _failuresLeft = writes;

    public IReadOnlyList<UsageRecord[]> Batches
    {
        get
        {
            lock (_lock)
            {
                return [.. _batches];
            }
        }
    }

    public int RecordCount => Batches.Sum(b => b.Length);

    public async Task WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Attempts++;
        }

        await Gate.Task.WaitAsync(cancellationToken);
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            throw new InvalidOperationException("the store is down");
        }

        lock (_lock)
        {
            _batches.Add([.. batch]);
        }
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}
