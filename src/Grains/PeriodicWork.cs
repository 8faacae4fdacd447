namespace Gatehouse;

/// <summary>The background loop of the per-silo flushers (lease holders, health reporter): one call per tick until the host stops.</summary>
internal static class PeriodicWork
{
    /// <summary>Runs <paramref name="work"/> every <paramref name="interval"/> (on <paramref name="timeProvider"/>) until <paramref name="stoppingToken"/> is cancelled.</summary>
    public static async Task RunAsync(TimeSpan interval, TimeProvider timeProvider, Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await work(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
