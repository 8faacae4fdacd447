namespace Gatehouse.Configuration;

/// <summary>What <see cref="ConfigurationSchemaChecker"/> found: the messages, and the keys the binder must not see.</summary>
internal sealed record ConfigurationCheck(IReadOnlyList<string> Errors, IReadOnlyList<string> RejectedPaths);
