using Gatehouse.Grains;

namespace Gatehouse.Budgets;

/// <summary>
/// This silo's money for one app: granted by the app's <see cref="IBudgetGrain"/>, reserved by requests, and settled
/// back to the authority in batches (what calls cost, and what was not used).
/// </summary>
/// <remarks>
/// Thread-safe. Between grants a request reserves with a lock and no grain call. The money of a day that has ended, and
/// money idle for <see cref="BudgetLeaseHolder.IdleRelease"/>, goes back to the authority, so other silos can use it.
/// Invariant per granted day: money held here + reserved by calls in flight = granted − spent − released (settled or not).
/// </remarks>
internal sealed class BudgetPool(string appId)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (decimal Spent, decimal Released)> _unsettled = new(StringComparer.Ordinal);

    private decimal _available;
    private string _day = "";
    private DateTimeOffset _dayEndsAt;
    private int _inFlight;
    private DateTimeOffset _lastReserve;
    private DateTimeOffset _lastContact;
    private BudgetLeaseGrant? _refusal;
    private DateTimeOffset _refusedUntil;
    private DateTimeOffset _windowStart;
    private decimal _windowDemand;
    private decimal _lastWindowDemand;
    private bool _retired;

    public string AppId { get; } = appId;

    private TaskCompletionSource<BudgetLeaseGrant>? _fetching;

    /// <summary>Takes <paramref name="estimate"/> from the pool when it holds enough for today.</summary>
    /// <returns>False when the pool was retired (ask the holder for the app's current pool) or is short (<paramref name="reservation"/> is null).</returns>
    public bool TryReserve(decimal estimate, DateTimeOffset now, out BudgetReservation? reservation)
    {
        lock (_gate)
        {
            reservation = null;
            if (_retired)
            {
                return false;
            }

            CountDemand(estimate, now);
            _lastReserve = now;
            ReleaseEndedDay(now);
            // An estimate of 0 (an unpriced model) still needs something left: a spent budget refuses every call.
            if (_day.Length > 0 && _available > 0 && _available >= estimate)
            {
                _available -= estimate;
                _inFlight++;
                reservation = new BudgetReservation(AppId, _day, estimate);
            }

            return true;
        }
    }

    /// <summary>The refusal to repeat without asking the authority again, while it is fresh (it is re-asked after <see cref="BudgetLeaseHolder.RefusalRecheck"/>).</summary>
    public BudgetLeaseGrant? CurrentRefusal(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _refusal is not null && now < _refusedUntil ? _refusal : null;
        }
    }

    /// <summary>
    /// The grant request under way for this pool, to await (<c>Send</c> null); or, when none is, a new one for a caller
    /// short of <paramref name="estimate"/>, carrying every pending settlement, that the caller must send and then
    /// complete with <see cref="EndFetch"/>.
    /// </summary>
    public (Task<BudgetLeaseGrant> Answer, BudgetLeaseRequest? Send) JoinOrBeginFetch(decimal estimate, string holderId, TimeSpan demandAhead)
    {
        lock (_gate)
        {
            if (_fetching is { } running)
            {
                return (running.Task, null);
            }

            _fetching = new TaskCompletionSource<BudgetLeaseGrant>(TaskCreationOptions.RunContinuationsAsynchronously);
            // What is left here (less than the caller needs) goes back with the ask, so the end of a budget is never
            // stranded in one silo's pool: the authority sees all that is left and grants the whole estimate from it.
            if (_day.Length > 0)
            {
                Release(_day, _available);
                _available = 0;
            }

            var needed = Math.Max(estimate, BudgetLeaseHolder.SmallestGrant);
            var rate = Math.Max(_windowDemand, _lastWindowDemand);
            return (_fetching.Task, new BudgetLeaseRequest
            {
                HolderId = holderId,
                Needed = needed,
                Wanted = needed + rate * (decimal)demandAhead.TotalSeconds,
                Settlements = DrainSettlements(),
            });
        }
    }

    /// <summary>Ends the fetch begun by <see cref="JoinOrBeginFetch"/>: applies the answer, or puts its settlements back when it failed.</summary>
    public void EndFetch(BudgetLeaseRequest sent, BudgetLeaseGrant? grant, Exception? error, DateTimeOffset now, TimeSpan refusalRecheck)
    {
        TaskCompletionSource<BudgetLeaseGrant> fetching;
        lock (_gate)
        {
            fetching = _fetching!;
            _fetching = null;
            if (grant is not null)
            {
                Apply(grant, now, refusalRecheck);
            }
            else
            {
                Restore(sent.Settlements);
            }
        }

        if (grant is not null)
        {
            fetching.SetResult(grant);
        }
        else
        {
            fetching.SetException(error!);
        }
    }

    private void Apply(BudgetLeaseGrant grant, DateTimeOffset now, TimeSpan refusalRecheck)
    {
        _lastContact = now;
        if (!grant.Granted)
        {
            if (grant.Period is not null)
            {
                _refusal = grant;
                _refusedUntil = grant.ResetsAt < now + refusalRecheck ? grant.ResetsAt : now + refusalRecheck;
            }

            return;
        }

        _refusal = null;
        if (_day != grant.Day && _day.Length > 0)
        {
            Release(_day, _available);
            _available = 0;
        }

        _day = grant.Day;
        _dayEndsAt = grant.DayEndsAt;
        _available += grant.Amount;
    }

    /// <summary>Settles one request: its cost is spent, the rest of its estimate returns to the pool (or to the authority, for a past day).</summary>
    public void Settle(BudgetReservation reservation, decimal cost)
    {
        lock (_gate)
        {
            _inFlight--;
            cost = Math.Max(cost, 0);
            var entry = _unsettled.GetValueOrDefault(reservation.Day);
            _unsettled[reservation.Day] = (entry.Spent + cost, entry.Released);
            var left = reservation.Estimate - cost;
            if (reservation.Day == _day)
            {
                // A call that cost more than its estimate takes the difference from the pool; what the pool cannot
                // cover the authority learns from the spend it is told of.
                _available = Math.Max(_available + left, 0);
            }
            else
            {
                Release(reservation.Day, Math.Max(left, 0));
            }
        }
    }

    /// <summary>
    /// What to tell the authority now: pending settlements, money idle too long or of an ended day, or a sign of life
    /// while money is held; null when nothing is due.
    /// </summary>
    public BudgetLeaseRequest? Flush(string holderId, DateTimeOffset now, TimeSpan idleRelease, TimeSpan renewInterval)
    {
        lock (_gate)
        {
            ReleaseEndedDay(now);
            if (_inFlight == 0 && _available > 0 && now - _lastReserve >= idleRelease && _fetching is null)
            {
                Release(_day, _available);
                _available = 0;
            }

            var holdsMoney = _available > 0 || _inFlight > 0;
            if (_unsettled.Count == 0 && !(holdsMoney && now - _lastContact >= renewInterval))
            {
                return null;
            }

            _lastContact = now;
            return new BudgetLeaseRequest { HolderId = holderId, Settlements = DrainSettlements() };
        }
    }

    /// <summary>Puts back settlements whose call failed, to be sent again.</summary>
    public void Restore(IReadOnlyList<BudgetSettlement> settlements)
    {
        lock (_gate)
        {
            foreach (var s in settlements)
            {
                var entry = _unsettled.GetValueOrDefault(s.Day);
                _unsettled[s.Day] = (entry.Spent + s.Spent, entry.Released + s.Released);
            }
        }
    }

    /// <summary>Retires the pool when it holds nothing and has not been used for <paramref name="idleFor"/>; a retired pool takes no reservation.</summary>
    public bool TryRetire(DateTimeOffset now, TimeSpan idleFor)
    {
        lock (_gate)
        {
            _retired = !_retired && _available == 0 && _inFlight == 0 && _unsettled.Count == 0 && _fetching is null && now - _lastReserve >= idleFor;
            return _retired;
        }
    }

    /// <summary>Gives back everything this silo holds (a graceful stop).</summary>
    public void ReleaseAll()
    {
        lock (_gate)
        {
            if (_day.Length > 0)
            {
                Release(_day, _available);
            }

            _available = 0;
        }
    }

    private void ReleaseEndedDay(DateTimeOffset now)
    {
        if (_day.Length > 0 && now >= _dayEndsAt)
        {
            Release(_day, _available);
            _available = 0;
            _day = "";
        }
    }

    private void Release(string day, decimal amount)
    {
        if (amount > 0)
        {
            var entry = _unsettled.GetValueOrDefault(day);
            _unsettled[day] = (entry.Spent, entry.Released + amount);
        }
    }

    private List<BudgetSettlement> DrainSettlements()
    {
        var drained = _unsettled.Select(u => new BudgetSettlement { Day = u.Key, Spent = u.Value.Spent, Released = u.Value.Released }).ToList();
        _unsettled.Clear();
        return drained;
    }

    private void CountDemand(decimal estimate, DateTimeOffset now)
    {
        if (now - _windowStart >= TimeSpan.FromSeconds(1))
        {
            _lastWindowDemand = now - _windowStart >= TimeSpan.FromSeconds(2) ? 0 : _windowDemand;
            _windowDemand = 0;
            _windowStart = now;
        }

        _windowDemand += estimate;
    }
}
