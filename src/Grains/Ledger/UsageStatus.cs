namespace Gatehouse.Ledger;

/// <summary>The <see cref="UsageRecord.Status"/> values that are not a <see cref="Errors.GatewayError"/> name.</summary>
public static class UsageStatus
{
    /// <summary>The upstream answered (for a stream: to its end).</summary>
    public const string Ok = "ok";
    /// <summary>The caller went away (or the request's deadline passed) while the upstream call was under way.</summary>
    public const string Cancelled = "cancelled";
    /// <summary>The call failed in a way the gateway has no kind for.</summary>
    public const string Error = "error";
}
