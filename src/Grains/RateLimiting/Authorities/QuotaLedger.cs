using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Authorities;

/// <summary>
/// The authority's side of the requests and tokens buckets: grants batches for the current 1-second slot, queues
/// what cannot be granted yet, and serves the queue as slots age out and the burst refills — highest priority first, round-robin between apps
/// of equal priority.
/// </summary>
/// <remarks>
/// Not thread-safe: owned by one grain activation, which calls <see cref="Pump"/> at <see cref="NextWakeUp"/>. A grant
/// is valid until the end of the current 1-second slot. The counts survive the activation through
/// <see cref="ToRecord"/> and <see cref="Restore"/>: the grain persists them before a grant is answered.
/// </remarks>
internal sealed class QuotaLedger
{
    private readonly SlidingWindowBucket? _requests;
    private readonly SlidingWindowBucket? _tokens;
    private readonly double _maxBatchShare;
    // Index = (int)RequestPriority; per priority, the apps with waiters in round-robin order, each with its FIFO.
    private readonly LinkedList<AppQueue>[] _queues = [new(), new(), new()];
    private readonly Dictionary<(RequestPriority, string), AppQueue> _queuesByApp = [];
    private int _waiting;

    public QuotaLedger(int? requestsPerMinute, int? tokensPerMinute, double maxBatchShare, int? requestsBurst = null)
    {
        _requests = requestsPerMinute is { } rpm ? new SlidingWindowBucket(rpm, requestsBurst) : null;
        _tokens = tokensPerMinute is { } tpm ? new SlidingWindowBucket(tpm) : null;
        _maxBatchShare = maxBatchShare;
    }

    public int Waiting => _waiting;

    /// <summary>When <see cref="Pump"/> must run next: the next refill or the earliest waiter deadline; null when no one waits.</summary>
    public DateTimeOffset? NextWakeUp(DateTimeOffset now)
    {
        if (_waiting == 0)
        {
            return null;
        }

        var wake = NextCapacityAt(now);
        foreach (var queue in _queues)
        {
            foreach (var app in queue)
            {
                foreach (var waiter in app.Waiters)
                {
                    wake = waiter.Deadline < wake ? waiter.Deadline : wake;
                }
            }
        }

        return wake;
    }

    /// <summary>Grants now, or queues the request (returning the waiter) when it may wait, or rejects it.</summary>
    public LeaseGrant? Acquire(LeaseRequest request, DateTimeOffset now, out QuotaWaiter? waiter)
    {
        waiter = null;
        // Nobody jumps the queue: a request waits behind waiters of its priority or higher.
        if (!HasWaitersAtOrAbove(request.Priority) && TryGrant(request, now, now) is { } grant)
        {
            return grant;
        }

        if (request.MaxWait <= TimeSpan.Zero)
        {
            return Rejected(request, now);
        }

        waiter = new QuotaWaiter(request, now, now + request.MaxWait);
        var key = (request.Priority, request.AppId);
        if (!_queuesByApp.TryGetValue(key, out var app))
        {
            app = new AppQueue(request.AppId, request.Priority);
            _queuesByApp[key] = app;
            app.Node = _queues[(int)request.Priority].AddLast(app);
        }

        app.Waiters.AddLast(waiter);
        _waiting++;
        return null;
    }

    /// <summary>Removes a waiter whose caller gave up (cancellation); false if it was already answered.</summary>
    public bool Remove(QuotaWaiter waiter)
    {
        if (!_queuesByApp.TryGetValue((waiter.Request.Priority, waiter.Request.AppId), out var app) || !app.Waiters.Remove(waiter))
        {
            return false;
        }

        _waiting--;
        DropIfEmpty(app);
        return true;
    }

    /// <summary>Answers waiters past their deadline, then grants to waiters in priority order as capacity allows.</summary>
    public void Pump(DateTimeOffset now)
    {
        if (_waiting == 0)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            for (var node = queue.First; node is not null;)
            {
                var next = node.Next;
                var app = node.Value;
                for (var w = app.Waiters.First; w is not null;)
                {
                    var nextWaiter = w.Next;
                    if (w.Value.Deadline <= now)
                    {
                        app.Waiters.Remove(w);
                        _waiting--;
                        w.Value.Complete(Rejected(w.Value.Request, now));
                    }

                    w = nextWaiter;
                }

                DropIfEmpty(app);
                node = next;
            }
        }

        for (var priority = _queues.Length - 1; priority >= 0; priority--)
        {
            var queue = _queues[priority];
            while (queue.First is { } node)
            {
                var app = node.Value;
                var waiter = app.Waiters.First!.Value;
                if (TryGrant(waiter.Request, now, waiter.EnqueuedAt) is not { } grant)
                {
                    // Strict order: a lower priority (or the next app) never overtakes a waiter that does not fit yet.
                    return;
                }

                app.Waiters.RemoveFirst();
                _waiting--;
                waiter.Complete(grant);
                // Round-robin: the app just served goes to the back of its priority's line.
                queue.Remove(node);
                if (app.Waiters.Count > 0)
                {
                    queue.AddLast(node);
                }
                else
                {
                    _queuesByApp.Remove((app.Priority, app.AppId));
                }
            }
        }
    }

    public void Settle(LeaseSettlement settlement, DateTimeOffset now)
    {
        var grantedAt = new DateTimeOffset(settlement.GrantedAtTicks, TimeSpan.Zero);
        if (settlement.RequestsReturned > 0)
        {
            _requests?.Return(settlement.RequestsReturned, grantedAt, now);
        }

        if (settlement.TokensReturned > 0)
        {
            _tokens?.Return(settlement.TokensReturned, grantedAt, now);
        }

        if (settlement.TokensOwed > 0)
        {
            _tokens?.Owe(settlement.TokensOwed, now);
        }
    }

    /// <summary>When queued waiters are next worth looking at: the next slot start, when units age out and the burst refills.</summary>
    public DateTimeOffset NextCapacityAt(DateTimeOffset now) => SlidingWindowBucket.StartOf(SlidingWindowBucket.SlotOf(now) + 1);

    /// <summary>The counts to persist.</summary>
    public QuotaRecord ToRecord(DateTimeOffset now) => new()
    {
        Requests = _requests?.ToRecord(now),
        Tokens = _tokens?.ToRecord(now),
    };

    /// <summary>Resumes from persisted counts; the queue of waiters is kept.</summary>
    public void Restore(QuotaRecord record, DateTimeOffset now)
    {
        if (_requests is not null && record.Requests is { } requests)
        {
            _requests.Restore(requests, now);
        }

        if (_tokens is not null && record.Tokens is { } tokens)
        {
            _tokens.Restore(tokens, now);
        }
    }

    private LeaseGrant? TryGrant(LeaseRequest request, DateTimeOffset now, DateTimeOffset arrivedAt)
    {
        if ((_requests is not null && request.RequestsNeeded > 0 && !_requests.CanTake(request.RequestsNeeded, now))
            || (_tokens is not null && request.TokensNeeded > 0 && !_tokens.CanTake(request.TokensNeeded, now)))
        {
            return null;
        }

        // Under contention a holder gets only what its callers are waiting for now: a batch sized for its future
        // demand would idle on one silo while others queue.
        var contended = _waiting > 0;
        var requests = Size(_requests, request.RequestsNeeded, contended ? request.RequestsWaiting : request.RequestsWanted, request.RequestsWaiting, now);
        var tokens = Size(_tokens, request.TokensNeeded, contended ? request.TokensWaiting : request.TokensWanted, request.TokensWaiting, now);
        // Too little of this slot is left for the holder to use a lease safely: the grant is for the next slot
        // instead, at once, rather than making the caller wait (or be refused) until it starts.
        var slot = SlidingWindowBucket.SlotOf(now);
        var forNextSlot = SlidingWindowBucket.StartOf(slot + 1) - now < request.MinValidity;
        _requests?.Take(requests, now, forNextSlot);
        _tokens?.Take(tokens, now, forNextSlot);

        var validUntil = SlidingWindowBucket.StartOf(slot + (forNextSlot ? 2 : 1));
        return new LeaseGrant
        {
            Granted = true,
            // Returned units are credited to the slot of this instant: the next one for a grant made for it.
            GrantedAtTicks = forNextSlot ? SlidingWindowBucket.StartOf(slot + 1).UtcTicks : now.UtcTicks,
            Requests = requests,
            Tokens = tokens,
            ValidFor = validUntil - now,
            RequestsLimit = _requests?.Limit,
            TokensLimit = _tokens?.Limit,
            RequestsRemaining = _requests?.RemainingInMinute(now),
            TokensRemaining = _tokens?.RemainingInMinute(now),
            Queued = now - arrivedAt,
        };
    }

    /// <summary>
    /// The batch to grant: what was wanted, capped by what is left and by a share of the burst — but never below the
    /// callers already waiting on that silo, who would otherwise be refused with capacity to spare.
    /// </summary>
    private int Size(SlidingWindowBucket? bucket, int needed, int wanted, int waiting, DateTimeOffset now)
    {
        wanted = Math.Max(Math.Max(needed, wanted), waiting);
        if (bucket is null)
        {
            return wanted;
        }

        var available = bucket.Available(now);
        // The cap keeps one busy silo from draining what the others are about to ask for.
        var cap = Math.Max(Math.Max(1, waiting), (int)Math.Ceiling(Math.Min(bucket.Limit, bucket.Burst) * _maxBatchShare));
        return Math.Max(needed, Math.Min(wanted, Math.Min(available, cap)));
    }

    /// <summary>A refusal: <see cref="LeaseGrant.RetryAfter"/> is when the needed units could be granted, if no one else takes them first.</summary>
    private LeaseGrant Rejected(LeaseRequest request, DateTimeOffset now)
    {
        var at = NextCapacityAt(now);
        if (_requests is not null && request.RequestsNeeded > 0 && _requests.AvailableAt(request.RequestsNeeded, now) is var r && r > at)
        {
            at = r;
        }

        if (_tokens is not null && request.TokensNeeded > 0 && _tokens.AvailableAt(request.TokensNeeded, now) is var t && t > at)
        {
            at = t;
        }

        return new LeaseGrant
        {
            Granted = false,
            RetryAfter = at - now,
            RequestsLimit = _requests?.Limit,
            TokensLimit = _tokens?.Limit,
            RequestsRemaining = _requests?.RemainingInMinute(now),
            TokensRemaining = _tokens?.RemainingInMinute(now),
        };
    }

    private bool HasWaitersAtOrAbove(RequestPriority priority)
    {
        for (var p = (int)priority; p < _queues.Length; p++)
        {
            if (_queues[p].Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    private void DropIfEmpty(AppQueue app)
    {
        if (app.Waiters.Count == 0 && app.Node?.List is { } list)
        {
            list.Remove(app.Node);
            _queuesByApp.Remove((app.Priority, app.AppId));
        }
    }

    private sealed class AppQueue(string appId, RequestPriority priority)
    {
        public string AppId { get; } = appId;
        public RequestPriority Priority { get; } = priority;
        public LinkedList<QuotaWaiter> Waiters { get; } = new();
        public LinkedListNode<AppQueue>? Node { get; set; }
    }
}

/// <summary>A lease request queued at the authority until capacity refills or its deadline passes.</summary>
internal sealed class QuotaWaiter(LeaseRequest request, DateTimeOffset enqueuedAt, DateTimeOffset deadline)
{
    public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;

    private readonly TaskCompletionSource<LeaseGrant> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LeaseRequest Request { get; } = request;

    public DateTimeOffset Deadline { get; } = deadline;

    public Task<LeaseGrant> Task => _completion.Task;

    public void Complete(LeaseGrant grant) => _completion.TrySetResult(grant);
}
