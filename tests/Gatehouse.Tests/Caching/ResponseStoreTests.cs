using Gatehouse.Caching;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Caching;

/// <summary>The silo's byte budget for stored answers: least recently used out first, never served past expiry.</summary>
public sealed class ResponseStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly GatehouseOptions _settings = new();
    private readonly ResponseStore _store;

    public ResponseStoreTests()
    {
        _store = new ResponseStore(new TestOptionsMonitor<GatehouseOptions>(_settings), _time);
    }

    private StoredAnswer Answer(int chars = 1000, int ttlSeconds = 60) =>
        new([new ChatChunk { Id = "c", Model = "m", TextDelta = new string('x', chars), FinishReason = FinishReason.Stop }], _time.GetUtcNow().AddSeconds(ttlSeconds));

    [Fact]
    public void Put_TenTimesTheBudgetOfUniqueEntries_StaysWithinItAndKeepsTheMostRecent()
    {
        _store.Put("key-0000", Answer());
        var perEntry = _store.Bytes;
        _store.Remove("key-0000");
        _settings.Cache.MaxBytesPerSilo = 100 * perEntry;

        for (var i = 0; i < 1000; i++)
        {
            Assert.True(_store.Put($"key-{i:D4}", Answer()));
            Assert.True(_store.Bytes <= _settings.Cache.MaxBytesPerSilo, $"{_store.Bytes} bytes after {i + 1} entries");
        }

        Assert.Equal(100, _store.Count);
        Assert.Equal(900, _store.Evictions);
        Assert.All(Enumerable.Range(900, 100), i => Assert.NotNull(_store.TryGet($"key-{i:D4}")));
        Assert.Null(_store.TryGet("key-0899"));
        Assert.Null(_store.TryGet("key-0000"));
    }

    [Fact]
    public void Put_WhenFull_EvictsTheLeastRecentlyReadNotTheOldestWritten()
    {
        _store.Put("a", Answer());
        _settings.Cache.MaxBytesPerSilo = 3 * _store.Bytes;
        _store.Put("b", Answer());
        _store.Put("c", Answer());

        Assert.NotNull(_store.TryGet("a"));
        _store.Put("d", Answer());

        Assert.NotNull(_store.TryGet("a"));
        Assert.Null(_store.TryGet("b"));
        Assert.NotNull(_store.TryGet("c"));
        Assert.NotNull(_store.TryGet("d"));
        Assert.Equal(1, _store.Evictions);
    }

    [Fact]
    public void TryGet_AtExpiry_MissesAndFreesTheBytes()
    {
        _store.Put("a", Answer(ttlSeconds: 10));
        _time.Advance(TimeSpan.FromSeconds(9.999));
        Assert.NotNull(_store.TryGet("a"));

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Null(_store.TryGet("a"));
        Assert.Equal(0, _store.Bytes);
        Assert.Equal(0, _store.Evictions);
    }

    [Fact]
    public void Put_AnswerLargerThanTheWholeBudget_IsRefusedAndEvictsNothing()
    {
        _settings.Cache.MaxBytesPerSilo = 10_000;
        _store.Put("small", Answer(chars: 10));

        Assert.False(_store.Put("huge", Answer(chars: 10_000)));

        Assert.NotNull(_store.TryGet("small"));
        Assert.Null(_store.TryGet("huge"));
    }

    [Fact]
    public void Put_SameKeyAgain_ReplacesWithoutCountingTwice()
    {
        _store.Put("a", Answer());
        var once = _store.Bytes;

        _store.Put("a", Answer());

        Assert.Equal(once, _store.Bytes);
        Assert.Equal(1, _store.Count);
    }
}
