using Gatehouse.Responses;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Gatehouse.Tests.Responses;

/// <summary>The memory storage of stored responses stays under its byte limit, dropping the oldest records first.</summary>
public sealed class BoundedMemoryGrainStorageTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public async Task Writes_PastTheLimit_DropTheOldestRecords_AndKeepTheTotalUnderIt()
    {
        var size = Serializer.SerializeToArray(new string('x', 1000)).Length;
        var storage = new BoundedMemoryGrainStorage(Serializer, limitBytes: size * 3);

        for (var i = 0; i < 5; i++)
        {
            await storage.WriteStateAsync("s", Grain(i), new GrainState<string> { State = new string('x', 1000) });
        }

        Assert.Equal(size * 3, storage.Bytes);
        var kept = await Task.WhenAll(Enumerable.Range(0, 5).Select(async i => (await ReadAsync(storage, i)).RecordExists));
        Assert.Equal([false, false, true, true, true], kept);
    }

    [Fact]
    public async Task Read_ReturnsACopy_NotTheWrittenObject()
    {
        var storage = new BoundedMemoryGrainStorage(Serializer, limitBytes: 1 << 20);
        var written = new GrainState<List<string>> { State = ["a"] };
        await storage.WriteStateAsync("s", Grain(1), written);
        written.State.Add("changed after the write");

        var read = new GrainState<List<string>>();
        await storage.ReadStateAsync("s", Grain(1), read);

        Assert.Equal(["a"], read.State);
    }

    [Fact]
    public async Task Write_WithAStaleETag_IsRefused()
    {
        var storage = new BoundedMemoryGrainStorage(Serializer, limitBytes: 1 << 20);
        var first = new GrainState<string> { State = "one" };
        await storage.WriteStateAsync("s", Grain(1), first);
        var stale = new GrainState<string> { State = "two", ETag = "not-the-current-etag" };

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", Grain(1), stale));
        await storage.ClearStateAsync("s", Grain(1), first);
        Assert.False((await ReadAsync(storage, 1)).RecordExists);
        Assert.Equal(0, storage.Bytes);
    }

    private static GrainId Grain(int i) => GrainId.Create("test", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<GrainState<string>> ReadAsync(BoundedMemoryGrainStorage storage, int i)
    {
        var state = new GrainState<string>();
        await storage.ReadStateAsync("s", Grain(i), state);
        return state;
    }
}
