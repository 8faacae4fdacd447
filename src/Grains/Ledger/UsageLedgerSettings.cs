namespace Gatehouse.Ledger;

/// <summary>The ledger's bounds and timings (not configuration: fixed, documented in the README).</summary>
/// <param name="QueueCapacity">Records queued at most; the memory bound of the queue.</param>
/// <param name="BatchSize">Records written at most per batch; a full batch is written without waiting for <paramref name="FlushInterval"/>.</param>
/// <param name="FlushInterval">How long the first record of a batch waits for others before the batch is written.</param>
/// <param name="BackPressure">How long a record waits for room in a full queue before it is dropped.</param>
/// <param name="FirstRetryDelay">The wait before retrying a failed batch; it doubles up to <paramref name="MaxRetryDelay"/>.</param>
public sealed record UsageLedgerSettings(
    int QueueCapacity,
    int BatchSize,
    TimeSpan FlushInterval,
    TimeSpan BackPressure,
    TimeSpan FirstRetryDelay,
    TimeSpan MaxRetryDelay)
{
    public static UsageLedgerSettings Default { get; } = new(
        QueueCapacity: 50_000,
        BatchSize: 500,
        FlushInterval: TimeSpan.FromMilliseconds(250),
        BackPressure: TimeSpan.FromMilliseconds(5),
        FirstRetryDelay: TimeSpan.FromMilliseconds(100),
        MaxRetryDelay: TimeSpan.FromSeconds(5));
}
