namespace Gatehouse.Tests.Support;

/// <summary>Waits that fail with a message naming the phase that did not happen (never a bare timeout).</summary>
public static class PhaseTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static async Task Within(this Task task, string phase, TimeSpan? timeout = null)
    {
        try
        {
            await task.WaitAsync(timeout ?? Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout ?? Default} waiting for: {phase}");
        }
    }

    public static async Task<T> Within<T>(this Task<T> task, string phase, TimeSpan? timeout = null)
    {
        try
        {
            return await task.WaitAsync(timeout ?? Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout ?? Default} waiting for: {phase}");
        }
    }
}
