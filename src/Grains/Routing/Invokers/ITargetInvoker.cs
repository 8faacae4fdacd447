namespace Gatehouse.Routing.Invokers;

/// <summary>One link of the chain around a target's adapter call: retry, admission, metering, health, span, the adapter.</summary>
/// <remarks>
/// Built once per target (<see cref="TargetInvokers"/>) and shared by every request to it, so implementations are
/// thread-safe and keep per-call state in locals, in the <see cref="UpstreamCall"/>, or in the answer's end callbacks.
/// They run on the router grain's scheduler and do not use <c>ConfigureAwait(false)</c>: health, span and metering
/// continue where the grain call runs, as the retry pipeline's context asks.
///
/// Not <c>DelegatingChatGateway</c>: an invoker needs the call's context (the routed call for the ledger and the
/// buckets, the request's deadline, its attempt counter), serves embeddings as well as chat, and deals in a stream
/// opened up to its first chunk (an <see cref="UpstreamStream"/>, retried, hedged and failed over as a whole), whose
/// permit, in-flight count, span and usage record end when it is disposed, read or unread.
/// </remarks>
public interface ITargetInvoker
{
    /// <summary>Makes the call (for a stream: up to its first chunk), or throws the <see cref="Errors.GatewayException"/> that ended it.</summary>
    /// <param name="call">The call and its context; its <see cref="UpstreamCall.Attempt"/> is set once the call is admitted.</param>
    /// <param name="cancellationToken">The caller's cancellation, or a hedge's or retry's token linked to it.</param>
    ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken);
}
