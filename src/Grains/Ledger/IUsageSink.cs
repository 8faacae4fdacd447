namespace Gatehouse.Ledger;

/// <summary>Where the ledger's batches go: PostgreSQL, or this silo's memory.</summary>
public interface IUsageSink
{
    /// <summary>Stores the whole batch or nothing; throws when it could not (the ledger then retries the same batch).</summary>
    Task WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken);
}
