namespace Gatehouse.Ledger;

/// <summary>This silo's usage ledger: takes records on the request path and stores them in batches, off it.</summary>
public interface IUsageLedger
{
    /// <summary>
    /// Queues one record. Completes at once while the queue has room; when it is full, waits up to the ledger's
    /// back-pressure limit for room, then drops the record and counts it in <see cref="Dropped"/>. Never throws.
    /// </summary>
    ValueTask RecordAsync(UsageRecord record);

    /// <summary>Records dropped because the queue stayed full (or the ledger had stopped).</summary>
    long Dropped { get; }

    /// <summary>Records the store has acknowledged (for PostgreSQL: their batch's COPY committed).</summary>
    long Written { get; }

    /// <summary>Records queued and not yet acknowledged by the store.</summary>
    int Pending { get; }
}
