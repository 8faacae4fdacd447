using Gatehouse.Errors;
using Gatehouse.Ledger;

namespace Gatehouse.Routing.Invokers;

/// <summary>How an <see cref="UpstreamStream"/> ended, for the invokers that close its books.</summary>
public readonly record struct StreamEnd
{
    /// <summary>Read to its end.</summary>
    public bool Completed { get; init; }

    /// <summary>Broken off because the caller went away.</summary>
    public bool Canceled { get; init; }

    /// <summary>What the upstream failed with after the first chunk, when that broke the stream.</summary>
    public GatewayException? Failure { get; init; }

    /// <summary>Closed after its first chunk, unread: the call of a hedged pair that lost.</summary>
    public bool LostHedge { get; init; }

    /// <summary>
    /// The usage ledger's status: <c>ok</c> when read to the end, <c>cancelled</c> when the caller went away or the
    /// hedge lost, else the failure's kind (<c>UpstreamFailed</c>, <c>UpstreamTimeout</c>, …) or <c>error</c>.
    /// </summary>
    public string Status =>
        LostHedge ? UsageStatus.Cancelled
        : Completed ? UsageStatus.Ok
        : Canceled ? UsageStatus.Cancelled
        : Failure?.Error.ToString() ?? UsageStatus.Error;
}
