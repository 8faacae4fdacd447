namespace Gatehouse.Routing.Invokers;

/// <summary>Base class of the invokers that wrap another; forwards the call by default (the shape of <c>DelegatingChatClient</c>).</summary>
public abstract class DelegatingTargetInvoker(ITargetInvoker inner) : ITargetInvoker
{
    protected ITargetInvoker Inner { get; } = inner;

    public virtual ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        Inner.InvokeAsync(call, cancellationToken);
}
