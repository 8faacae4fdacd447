using Microsoft.Extensions.Options;

namespace Gatehouse.Tests.Support;

/// <summary>An <see cref="IOptionsMonitor{TOptions}"/> whose value the test sets, notifying listeners as configuration reload does.</summary>
internal sealed class TestOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    private readonly List<Action<T, string?>> _listeners = [];

    public T CurrentValue { get; private set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable OnChange(Action<T, string?> listener)
    {
        _listeners.Add(listener);
        return new Subscription(() => _listeners.Remove(listener));
    }

    public void Set(T newValue)
    {
        CurrentValue = newValue;
        foreach (var listener in _listeners.ToArray())
        {
            listener(newValue, Options.DefaultName);
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
