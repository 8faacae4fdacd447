using Gatehouse.Ledger;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Ledger;

public sealed class UsageLedgerTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly UsageLedgerSettings Settings = new(
        QueueCapacity: 8, BatchSize: 4, FlushInterval: TimeSpan.FromMilliseconds(250), BackPressure: TimeSpan.FromMilliseconds(5),
        FirstRetryDelay: TimeSpan.FromMilliseconds(100), MaxRetryDelay: TimeSpan.FromSeconds(1));

    private readonly FakeTimeProvider _time = new(UsageRecords.Day1);
    private readonly RecordingSink _sink = new();
    private readonly UsageLedger _ledger;

    public UsageLedgerTests() => _ledger = new UsageLedger(_sink, Settings, _time, NullLogger<UsageLedger>.Instance);

    public Task InitializeAsync() => _ledger.StartAsync(CancellationToken.None);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    /// <summary>Advances the fake clock in small steps until <paramref name="condition"/> holds (the writer runs on the thread pool).</summary>
    private async Task AdvanceUntil(Func<bool> condition, TimeSpan step)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            _time.Advance(step);
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task RecordAsync_WithRoom_CompletesAtOnce()
    {
        var recorded = _ledger.RecordAsync(UsageRecords.Upstream());

        Assert.True(recorded.IsCompletedSuccessfully);
        await recorded;
        Assert.Equal(1, _ledger.Pending);
    }

    [Fact]
    public async Task Writer_WritesAPartialBatchOnlyAfterTheFlushInterval()
    {
        await _ledger.RecordAsync(UsageRecords.Upstream(app: "x"));
        await _ledger.RecordAsync(UsageRecords.Upstream(app: "y"));
        await Task.Delay(50);
        Assert.Empty(_sink.Batches);

        await AdvanceUntil(() => _sink.Batches.Count == 1, TimeSpan.FromMilliseconds(50));

        Assert.Equal(["x", "y"], _sink.Batches[0].Select(r => r.AppId));
        Assert.Equal(2, _ledger.Written);
        Assert.Equal(0, _ledger.Pending);
    }

    [Fact]
    public async Task Writer_SplitsIntoBatchesOfAtMostTheBatchSize()
    {
        for (var i = 0; i < 7; i++)
        {
            await _ledger.RecordAsync(UsageRecords.Upstream(prompt: i));
        }

        await AdvanceUntil(() => _sink.RecordCount == 7, TimeSpan.FromMilliseconds(50));

        Assert.All(_sink.Batches, b => Assert.InRange(b.Length, 1, Settings.BatchSize));
        Assert.Equal(Enumerable.Range(0, 7), _sink.Batches.SelectMany(b => b).Select(r => r.PromptTokens));
    }

    [Fact]
    public async Task RecordAsync_QueueFull_WaitsTheBackPressureThenDropsAndCounts()
    {
        _sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The writer holds one batch (BatchSize) at the shut sink; the queue then fills to its capacity.
        for (var i = 0; i < Settings.BatchSize; i++)
        {
            await _ledger.RecordAsync(UsageRecords.Upstream());
        }

        await AdvanceUntil(() => _sink.Attempts == 1, TimeSpan.FromMilliseconds(50));
        for (var i = 0; i < Settings.QueueCapacity; i++)
        {
            Assert.True(_ledger.RecordAsync(UsageRecords.Upstream()).IsCompletedSuccessfully);
        }

        var overflow = _ledger.RecordAsync(UsageRecords.Upstream(app: "late"));
        Assert.False(overflow.IsCompleted);
        Assert.Equal(0, _ledger.Dropped);

        _time.Advance(Settings.BackPressure);
        await overflow.AsTask().WaitAsync(Deadline);

        Assert.Equal(1, _ledger.Dropped);
        Assert.Equal(Settings.BatchSize + Settings.QueueCapacity, _ledger.Pending);

        _sink.Gate.SetResult();
        await AdvanceUntil(() => _sink.RecordCount == Settings.BatchSize + Settings.QueueCapacity, TimeSpan.FromMilliseconds(50));
        Assert.DoesNotContain(_sink.Batches.SelectMany(b => b), r => r.AppId == "late");
    }

    [Fact]
    public async Task RecordAsync_QueueFull_ARecordThatGetsRoomWithinTheBackPressureIsKept()
    {
        _sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < Settings.BatchSize; i++)
        {
            await _ledger.RecordAsync(UsageRecords.Upstream());
        }

        await AdvanceUntil(() => _sink.Attempts == 1, TimeSpan.FromMilliseconds(50));
        for (var i = 0; i < Settings.QueueCapacity; i++)
        {
            await _ledger.RecordAsync(UsageRecords.Upstream());
        }

        var waiting = _ledger.RecordAsync(UsageRecords.Upstream(app: "waited"));
        _sink.Gate.SetResult();
        // The writer takes the next batch at once (the queue holds more than a batch), making room.
        await waiting.AsTask().WaitAsync(Deadline);

        Assert.Equal(0, _ledger.Dropped);
        await AdvanceUntil(() => _sink.RecordCount == Settings.BatchSize + Settings.QueueCapacity + 1, TimeSpan.FromMilliseconds(50));
        Assert.Contains(_sink.Batches.SelectMany(b => b), r => r.AppId == "waited");
    }

    [Fact]
    public async Task Writer_RetriesAFailedBatchWithTheSameRecords()
    {
        _sink.FailNext(2);
        await _ledger.RecordAsync(UsageRecords.Upstream(app: "x"));

        await AdvanceUntil(() => _sink.Batches.Count == 1, TimeSpan.FromMilliseconds(50));

        Assert.Equal(3, _sink.Attempts);
        Assert.Equal("x", Assert.Single(_sink.Batches[0]).AppId);
        Assert.Equal(1, _ledger.Written);
    }

    [Fact]
    public async Task StopAsync_WritesEverythingQueuedWithoutWaitingForTheInterval()
    {
        for (var i = 0; i < 6; i++)
        {
            await _ledger.RecordAsync(UsageRecords.Upstream(prompt: i));
        }

        await _ledger.StopAsync(CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(6, _sink.RecordCount);
        Assert.Equal(6, _ledger.Written);
    }

    [Fact]
    public async Task StopAsync_StoreDown_GivesUpWhenTheShutdownTimeoutEnds()
    {
        _sink.FailNext(int.MaxValue);
        await _ledger.RecordAsync(UsageRecords.Upstream());
        using var shutdown = new CancellationTokenSource();

        var stop = _ledger.StopAsync(shutdown.Token);
        await AdvanceUntil(() => _sink.Attempts >= 2, TimeSpan.FromMilliseconds(100));
        await shutdown.CancelAsync();
        await stop.WaitAsync(Deadline);

        Assert.Equal(0, _ledger.Written);
    }

    [Fact]
    public async Task RecordAsync_AfterStop_DropsAndCounts()
    {
        await _ledger.StopAsync(CancellationToken.None);

        await _ledger.RecordAsync(UsageRecords.Upstream());

        Assert.Equal(1, _ledger.Dropped);
    }
}
