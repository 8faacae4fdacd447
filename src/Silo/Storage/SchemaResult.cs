namespace Gatehouse.Silo.Storage;

/// <summary>What one <see cref="DatabaseSchema.ApplyAsync"/> run did.</summary>
/// <param name="Applied">The scripts it applied, in the order it applied them.</param>
/// <param name="AlreadyPresent">The scripts the database already had, unchanged.</param>
public sealed record SchemaResult(IReadOnlyList<AppliedScript> Applied, IReadOnlyList<string> AlreadyPresent);
