using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Gatehouse.RateLimiting.Authorities;

/// <summary>
/// The grain side of an authority: a <see cref="QuotaLedger"/> and a <see cref="SlotLedger"/>, their write-ahead
/// <see cref="QuotaRecordStore{TRecord}"/>, and the one grain timer that serves queued waiters when the next slot starts or a
/// deadline passes.
/// </summary>
/// <remarks>
/// Used by <c>UpstreamQuotaGrain</c> and <c>AppQuotaGrain</c>, which must be <c>[Reentrant]</c> so a queued lease request
/// does not block the calls that follow it. All members run on the grain's scheduler. Nothing is granted before the
/// record has been read (a first activation finds none and grants at once), and no grant is answered before the
/// record holding it has been written: an activation that replaces this one resumes from exactly what was handed out.
/// </remarks>
internal sealed class QuotaAuthorityHost
{
    /// <summary>How long a refused caller is told to wait when the record could not be read or written.</summary>
    private static readonly TimeSpan StorageRetryAfter = TimeSpan.FromSeconds(1);

    private readonly Grain _grain;
    private readonly TimeProvider _timeProvider;
    private readonly QuotaLedger _ledger;
    private readonly SlotLedger _slots;
    private readonly QuotaRecordStore<QuotaRecord> _store;
    private readonly int? _requestsLimit;
    private readonly int? _tokensLimit;
    private IGrainTimer? _timer;
    private DateTimeOffset? _timerDue;

    public QuotaAuthorityHost(
        Grain grain, QuotaScope scope, int? requestsBurst, RateLimitOptions options, TimeSpan callTimeout,
        IGrainStorage storage, TimeProvider timeProvider, ILogger logger)
    {
        _grain = grain;
        _timeProvider = timeProvider;
        _requestsLimit = scope.RequestsPerMinute;
        _tokensLimit = scope.TokensPerMinute;
        _ledger = new QuotaLedger(scope.RequestsPerMinute, scope.TokensPerMinute, options.MaxBatchShare, requestsBurst);
        _slots = new SlotLedger(scope.MaxConcurrency, TimeSpan.FromSeconds(options.ConcurrencyLeaseSeconds), callTimeout, options.MaxBatchShare);
        _store = new QuotaRecordStore<QuotaRecord>(storage, QuotaRecord.StateName, grain.GetGrainId(), Snapshot, Restore, logger);
    }

    public async Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var arrived = _timeProvider.GetUtcNow();
        if (!await _store.LoadAsync())
        {
            return Unavailable();
        }

        var grant = _ledger.Acquire(request, _timeProvider.GetUtcNow(), out var waiter);
        if (grant is null)
        {
            Schedule();
            try
            {
                grant = await waiter!.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                if (!_ledger.Remove(waiter!) && waiter!.Task.IsCompletedSuccessfully && waiter.Task.Result.Granted)
                {
                    // Granted just as the caller gave up: the units go back rather than count for a minute unused.
                    Return(waiter.Task.Result);
                }

                throw;
            }
        }

        if (!grant.Granted)
        {
            return grant;
        }

        // A grant is valid until the end of the slot it is credited to (GrantedAtTicks lies in it).
        var validUntil = SlidingWindowBucket.StartOf(SlidingWindowBucket.SlotOf(new DateTimeOffset(grant.GrantedAtTicks, TimeSpan.Zero)) + 1);
        if (!await _store.PersistAsync())
        {
            return Unavailable();
        }

        // Everything spent here (reading the record, queueing, writing it) is reported as queueing, so it does not
        // shorten the holder's lease; only transit does. validUntil is the end of the slot the grant is for.
        var answered = _timeProvider.GetUtcNow();
        return grant with { Queued = answered - arrived, ValidFor = validUntil > answered ? validUntil - answered : TimeSpan.Zero };
    }

    public async Task SettleAsync(LeaseSettlement settlement)
    {
        if (!await _store.LoadAsync())
        {
            // Not credited: the record over-counts, which only refuses more than needed until the units age out.
            return;
        }

        var now = _timeProvider.GetUtcNow();
        _ledger.Settle(settlement, now);
        // Credited units may let a waiter through before the next slot.
        _ledger.Pump(now);
        await _store.PersistAsync();
    }

    public async Task<SlotGrant> LeaseSlotsAsync(SlotRequest request)
    {
        if (await _store.LoadAsync())
        {
            var grant = _slots.Lease(request, _timeProvider.GetUtcNow());
            if (_slots.Limit is null || await _store.PersistAsync())
            {
                return grant;
            }
        }

        // Not recorded: only the calls already under way keep their slots, and only until the holder asks again.
        return new SlotGrant
        {
            Held = request.InFlight,
            ValidFor = StorageRetryAfter,
            Limit = _slots.Limit,
            RetryAfter = StorageRetryAfter,
            Sequence = request.Sequence,
        };
    }

    private QuotaRecord Snapshot()
    {
        var record = _ledger.ToRecord(_timeProvider.GetUtcNow());
        record.Slots = _slots.ToRecord();
        return record;
    }

    private void Restore(QuotaRecord record)
    {
        _ledger.Restore(record, _timeProvider.GetUtcNow());
        _slots.Restore(record.Slots ?? []);
    }

    private void Return(LeaseGrant grant) => _ledger.Settle(
        new LeaseSettlement { GrantedAtTicks = grant.GrantedAtTicks, RequestsReturned = grant.Requests, TokensReturned = grant.Tokens },
        _timeProvider.GetUtcNow());

    private LeaseGrant Unavailable() => new()
    {
        Granted = false,
        RetryAfter = StorageRetryAfter,
        RequestsLimit = _requestsLimit,
        TokensLimit = _tokensLimit,
    };

    private void Schedule()
    {
        var now = _timeProvider.GetUtcNow();
        if (_ledger.NextWakeUp(now) is not { } wake || (_timerDue is { } due && due <= wake))
        {
            return;
        }

        _timerDue = wake;
        var dueTime = wake > now ? wake - now : TimeSpan.Zero;
        if (_timer is null)
        {
            _timer = _grain.RegisterGrainTimer(OnTimer, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
        else
        {
            _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private Task OnTimer(CancellationToken cancellationToken)
    {
        _timerDue = null;
        _ledger.Pump(_timeProvider.GetUtcNow());
        Schedule();
        return Task.CompletedTask;
    }
}
