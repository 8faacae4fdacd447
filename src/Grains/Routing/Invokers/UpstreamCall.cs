using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Routing.Invokers;

/// <summary>
/// One request's call to a target as the invokers see it: the routed call (for the ledger, the metrics and the
/// buckets), the request as the caller sent it (the adapter sends it with the target's model), what is asked of the
/// adapter, the request's deadline, and its attempt counter.
/// </summary>
/// <param name="Call">The call that crossed the grain hop.</param>
/// <param name="Request">The caller's request (a <see cref="Chat.ChatRequest"/> or an <see cref="Embeddings.EmbeddingRequest"/>), model = the alias.</param>
/// <param name="Operation">What the adapter is asked for.</param>
/// <param name="Deadline">The request's wait budget, which every target's bucket and slot waits spend from.</param>
/// <param name="Attempts">The request's attempt counter, shared by every target it tries.</param>
public sealed record UpstreamCall(RoutedCall Call, IModelRequest Request, UpstreamOperation Operation, RequestDeadline Deadline, AttemptCounter Attempts)
{
    /// <summary>This attempt's number within its request; set by admission (a refused call is not an attempt), 0 before.</summary>
    public int Attempt { get; init; }
}
