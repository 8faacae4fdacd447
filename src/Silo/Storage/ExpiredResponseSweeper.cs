using Gatehouse.Configuration;
using Gatehouse.Responses;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gatehouse.Silo.Storage;

/// <summary>
/// Deletes the stored responses whose retention (<c>Responses:RetentionDays</c>) has passed from PostgreSQL, at start and
/// then every hour. A response is written once, so its row's <c>modified_at</c> is when it was stored. Every silo sweeps;
/// the delete is idempotent, so they need not agree who does.
/// </summary>
/// <remarks>An expired response that has not been swept yet is never served: its grain checks the expiry on read.</remarks>
internal sealed partial class ExpiredResponseSweeper(
    NpgsqlDataSource dataSource, IOptions<GatehouseOptions> options, TimeProvider timeProvider, ILogger<ExpiredResponseSweeper> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>Deletes the expired rows now; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var gatehouse = options.Value;
        await using var command = dataSource.CreateCommand(
            "DELETE FROM orleans_grain_state WHERE grain_type = $1 AND service_id = $2 AND modified_at < $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ResponseGrain.StateName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = gatehouse.Cluster.ServiceId });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = (timeProvider.GetUtcNow() - TimeSpan.FromDays(gatehouse.Responses.RetentionDays)).UtcDateTime });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, timeProvider);
        do
        {
            try
            {
                var deleted = await SweepAsync(stoppingToken);
                if (deleted > 0)
                {
                    LogSwept(deleted);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The next sweep tries again; until then expired responses are only refused, not deleted.
                LogSweepFailed(ex.GetType().Name);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.ResponsesSwept, Level = LogLevel.Information, Message = "Deleted {Count} stored responses past their retention")]
    private partial void LogSwept(int count);

    [LoggerMessage(EventId = GatehouseEventIds.ResponsesSweepFailed, Level = LogLevel.Warning, Message = "Could not delete expired stored responses ({Error}); trying again in an hour")]
    private partial void LogSweepFailed(string error);
}
