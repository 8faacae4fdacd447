using Gatehouse.Grains;
using Gatehouse.RateLimiting.Authorities;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.RateLimiting.Authorities;

public sealed class QuotaRecordStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly GrainId Authority = GrainId.Create("provider", "up");

    private static LeaseRequest Ask(int wanted = 1) => new() { HolderId = "silo", AppId = "a", RequestsNeeded = 1, RequestsWanted = wanted };

    /// <summary>One activation of an authority: its ledger and its store over the shared storage.</summary>
    private sealed class Activation
    {
        public Activation(SharedGrainStorage storage, int rpm = 5)
        {
            Ledger = new QuotaLedger(rpm, null, 1.0);
            Store = new QuotaRecordStore<QuotaRecord>(storage, QuotaRecord.StateName, Authority, () => Ledger.ToRecord(Start), record => Ledger.Restore(record, Start), NullLogger.Instance);
        }

        public QuotaLedger Ledger { get; }

        public QuotaRecordStore<QuotaRecord> Store { get; }

        /// <summary>Grants as the authority host does: debit, then answer only once the record holding the debit is written.</summary>
        public async Task<bool> GrantAsync(int wanted)
        {
            Assert.True(await Store.LoadAsync());
            var grant = Ledger.Acquire(Ask(wanted), Start, out _)!;
            return grant.Granted && await Store.PersistAsync();
        }
    }

    [Fact]
    public async Task LoadAsync_NoRecordYet_GrantsTheFirstRequestAtOnce()
    {
        var activation = new Activation(new SharedGrainStorage());

        Assert.True(await activation.GrantAsync(1));
    }

    [Fact]
    public async Task LoadAsync_RecordOfAnActivationThatDied_ResumesWhatItHandedOut()
    {
        var storage = new SharedGrainStorage();
        Assert.True(await new Activation(storage).GrantAsync(4));

        var next = new Activation(storage);

        Assert.True(await next.GrantAsync(1));
        Assert.False(await next.GrantAsync(1));
    }

    [Fact]
    public async Task PersistAsync_DuplicateActivation_OnlyOneGrantsTheSameUnits()
    {
        var storage = new SharedGrainStorage();
        var first = new Activation(storage);
        var duplicate = new Activation(storage);
        Assert.True(await first.Store.LoadAsync());
        Assert.True(await duplicate.Store.LoadAsync());

        Assert.True(await first.GrantAsync(5));
        // The duplicate read the record before the first wrote it: its write conflicts, so it grants nothing.
        Assert.False(await duplicate.GrantAsync(5));

        // Having reloaded, it knows the minute is spent.
        Assert.Equal(0, duplicate.Ledger.ToRecord(Start).Requests!.Granted.Sum() - 5);
        Assert.False(await duplicate.GrantAsync(1));
        Assert.Equal(1, storage.Writes);
    }

    [Fact]
    public async Task LoadAsync_UnreadableRecord_GrantsNothingUntilItCanBeRead()
    {
        var storage = new SharedGrainStorage();
        Assert.True(await new Activation(storage).GrantAsync(4));
        storage.FailReads = true;
        var next = new Activation(storage);

        Assert.False(await next.Store.LoadAsync());
        storage.FailReads = false;

        Assert.True(await next.GrantAsync(1));
        Assert.False(await next.GrantAsync(1));
    }

    [Fact]
    public async Task PersistAsync_ManyGrantsWhileAWriteIsUnderWay_ShareTheNextWrite()
    {
        var storage = new SharedGrainStorage();
        var activation = new Activation(storage, rpm: 100);
        Assert.True(await activation.Store.LoadAsync());
        var gate = storage.HoldWrites();

        var writes = Enumerable.Range(0, 10).Select(i =>
        {
            activation.Ledger.Acquire(Ask(), Start, out _);
            return activation.Store.PersistAsync();
        }).ToList();
        gate.SetResult();

        Assert.All(await Task.WhenAll(writes), Assert.True);
        // The first grant's write, then one write for the nine that asked while it was under way.
        Assert.Equal(2, storage.Writes);
    }
}
