using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Ledger;

/// <summary>
/// The silo's usage ledger: a bounded queue the request path writes to, and one background writer that stores its
/// records in batches through an <see cref="IUsageSink"/>.
/// </summary>
/// <remarks>
/// <para>Recording is a <c>TryWrite</c> on a bounded channel of value-type records: no lock, no allocation, no I/O.
/// When the queue is full (the store is down or slower than the traffic), a record waits up to
/// <see cref="UsageLedgerSettings.BackPressure"/> for room, then is dropped and counted; the writer logs a warning
/// with the count. Memory therefore never grows past <see cref="UsageLedgerSettings.QueueCapacity"/> records plus one
/// batch.</para>
/// <para>A batch is written when it is full or when its first record has waited
/// <see cref="UsageLedgerSettings.FlushInterval"/>. A failed batch is retried, the same records in the same batch, with
/// a doubling delay, for as long as the silo runs. Stopping the host drains the queue and writes what is left within
/// the host's shutdown timeout; records still unwritten then are logged as lost.</para>
/// </remarks>
public sealed partial class UsageLedger : IUsageLedger, IHostedService, IAsyncDisposable
{
    private readonly Channel<UsageRecord> _queue;
    private readonly IUsageSink _sink;
    private readonly UsageLedgerSettings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<UsageLedger> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<UsageRecord> _batch;
    private CancellationToken _abandon = CancellationToken.None;
    private Task _writer = Task.CompletedTask;
    private long _dropped;
    private long _written;
    private int _inBatch;
    private int _disposed;

    public UsageLedger(IUsageSink sink, UsageLedgerSettings settings, TimeProvider timeProvider, ILogger<UsageLedger> logger)
    {
        _sink = sink;
        _settings = settings;
        _timeProvider = timeProvider;
        _logger = logger;
        _batch = new List<UsageRecord>(settings.BatchSize);
        _queue = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Written => Interlocked.Read(ref _written);

    public int Pending => _queue.Reader.Count + Volatile.Read(ref _inBatch);

    public ValueTask RecordAsync(UsageRecord record) =>
        _queue.Writer.TryWrite(record) ? ValueTask.CompletedTask : new ValueTask(WaitForRoomAsync(record));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writer = Task.Run(() => WriteLoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops taking records, then writes every queued one, giving up (and logging the loss) when <paramref name="cancellationToken"/> fires.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _abandon = cancellationToken;
        _queue.Writer.TryComplete();
        // Ends the wait for a batch to fill, so the rest is written at once.
        await _stopping.CancelAsync();
        await _writer;
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes it once per registration that hands it out.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        _stopping.Dispose();
    }

    private async Task WaitForRoomAsync(UsageRecord record)
    {
        using var timeout = new CancellationTokenSource(_settings.BackPressure, _timeProvider);
        try
        {
            await _queue.Writer.WriteAsync(record, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteLoopAsync(CancellationToken stopping)
    {
        var reader = _queue.Reader;
        long droppedReported = 0;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            if (reader.Count < _settings.BatchSize && !stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_settings.FlushInterval, _timeProvider, stopping);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: write what is queued now.
                }
            }

            _batch.Clear();
            while (_batch.Count < _settings.BatchSize && reader.TryRead(out var record))
            {
                _batch.Add(record);
            }

            Volatile.Write(ref _inBatch, _batch.Count);
            if (!await WriteBatchAsync())
            {
                LogLostAtStop(_batch.Count + reader.Count);
                return;
            }

            Interlocked.Add(ref _written, _batch.Count);
            Volatile.Write(ref _inBatch, 0);
            var dropped = Dropped;
            if (dropped != droppedReported)
            {
                LogDropped(dropped - droppedReported, dropped, _settings.QueueCapacity);
                droppedReported = dropped;
            }
        }
    }

    /// <summary>Writes <see cref="_batch"/>, retrying with backoff; false when the host's shutdown timeout ended the retries.</summary>
    private async Task<bool> WriteBatchAsync()
    {
        var delay = _settings.FirstRetryDelay;
        while (true)
        {
            try
            {
                await _sink.WriteAsync(_batch, _abandon);
                return true;
            }
            catch (Exception ex) when (!_abandon.IsCancellationRequested)
            {
                LogBatchFailed(_batch.Count, ex.GetType().Name, delay.TotalMilliseconds);
            }
            catch (Exception) when (_abandon.IsCancellationRequested)
            {
                return false;
            }

            try
            {
                await Task.Delay(delay, _timeProvider, _abandon);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _settings.MaxRetryDelay.Ticks));
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.UsageBatchFailed, Level = LogLevel.Warning, Message = "Could not store {Count} usage records ({Error}); retrying in {DelayMs} ms")]
    private partial void LogBatchFailed(int count, string error, double delayMs);

    [LoggerMessage(EventId = GatehouseEventIds.UsageRecordsDropped, Level = LogLevel.Warning, Message = "Dropped {Count} usage records ({Total} in all): the ledger's queue of {Capacity} stayed full")]
    private partial void LogDropped(long count, long total, int capacity);

    [LoggerMessage(EventId = GatehouseEventIds.UsageRecordsLostAtStop, Level = LogLevel.Error, Message = "Stopped with {Count} usage records not stored: the store did not take them within the shutdown timeout")]
    private partial void LogLostAtStop(int count);
}
