namespace Gatehouse.Tests.Distributed;

/// <summary>How one call ended, as its caller sees it.</summary>
public enum CallKind
{
    /// <summary>An answer.</summary>
    Ok,

    /// <summary>Refused by a quota (429 / RateLimited): the limit doing its job.</summary>
    Refused,

    /// <summary>Failed with an error that says what happened (a 503 envelope, a refused connection, a lost gateway).</summary>
    FailedClearly,

    /// <summary>Anything else: a hang past the timeout, a 500, an error that explains nothing.</summary>
    FailedUnclearly,
}

/// <param name="Path">Which caller made it, e.g. "http silo 2 open" or "grain capped".</param>
/// <param name="Started">When the call was sent (wall clock).</param>
/// <param name="Detail">Status code or exception type and message, for failure reports.</param>
public sealed record CallOutcome(string Path, DateTimeOffset Started, TimeSpan Took, CallKind Kind, string Detail);
