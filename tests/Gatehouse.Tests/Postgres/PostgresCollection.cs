namespace Gatehouse.Tests.Postgres;

/// <summary>The tests that need PostgreSQL: they share one <see cref="TestPostgres"/> server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TestPostgres>
{
    public const string Name = "postgres";
}
