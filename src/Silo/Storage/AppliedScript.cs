namespace Gatehouse.Silo.Storage;

/// <summary>A script that one schema run applied.</summary>
/// <param name="Name">The script's file name.</param>
/// <param name="Reapplied">True when the database had an earlier version of this re-runnable script.</param>
public sealed record AppliedScript(string Name, bool Reapplied);
