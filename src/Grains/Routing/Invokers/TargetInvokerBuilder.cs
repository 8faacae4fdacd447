namespace Gatehouse.Routing.Invokers;

/// <summary>Stacks invokers around a target's adapter call; the first added is the outermost (as <c>ChatClientBuilder.Use</c>).</summary>
public sealed class TargetInvokerBuilder(ITargetInvoker adapter)
{
    private readonly List<Func<ITargetInvoker, ITargetInvoker>> _invokers = [];

    /// <summary>Adds an invoker inside those added before it.</summary>
    public TargetInvokerBuilder Use(Func<ITargetInvoker, ITargetInvoker> invoker)
    {
        _invokers.Add(invoker);
        return this;
    }

    public ITargetInvoker Build()
    {
        var invoker = adapter;
        for (var i = _invokers.Count - 1; i >= 0; i--)
        {
            invoker = _invokers[i](invoker);
        }

        return invoker;
    }
}
