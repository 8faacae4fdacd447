using Gatehouse.Routing.Invokers;

namespace Gatehouse.Routing;

/// <summary>
/// What one call of a hedged pair produced: the answer (a whole one, or a stream opened up to its first chunk) and the
/// target that gave it. Polly disposes the answer that lost, which closes a losing stream unread.
/// </summary>
public sealed record HedgedAnswer(UpstreamAnswer Answer, RouteTarget Target) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Answer is UpstreamStream stream ? stream.CloseLostAsync() : ValueTask.CompletedTask;
}
