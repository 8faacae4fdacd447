namespace Gatehouse.Ledger;

/// <summary>Answers <c>GET /admin/usage</c>: the ledger's records selected and grouped by a <see cref="UsageFilter"/>.</summary>
public interface IUsageQuery
{
    /// <summary>The rows, ordered by the grouped-by fields (day, app, alias, provider).</summary>
    Task<IReadOnlyList<UsageRow>> QueryAsync(UsageFilter filter, CancellationToken cancellationToken);
}
