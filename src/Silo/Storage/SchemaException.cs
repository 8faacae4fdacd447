namespace Gatehouse.Silo.Storage;

/// <summary>The schema cannot be applied for a reason the operator must fix (not a connection or SQL error).</summary>
public sealed class SchemaException(string message) : Exception(message);
