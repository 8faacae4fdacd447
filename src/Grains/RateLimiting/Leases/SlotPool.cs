using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// This silo's concurrency slots on one scope, the callers waiting for one, and the one slot request under way.
/// Guarded by locking the instance.
/// </summary>
internal sealed class SlotPool(QuotaScope scope, TimeProvider timeProvider)
{
    private readonly PriorityQueue<Waiter, (int, long)> _waiters = new();
    private long _arrivals;
    private long _lastSequence;
    private long _appliedSequence;

    public QuotaScope Scope { get; } = scope;

    /// <summary>Slots the authority last said this silo holds.</summary>
    public int Held;
    public int InFlight;
    public int PeakSinceRenewal;
    public long ExpiresAt;

    /// <summary>Completes when the slot request under way has been answered (or failed); null when none is.</summary>
    public Task? Outstanding;

    public int Waiting => _waiters.Count;

    public bool TryTake()
    {
        if (timeProvider.GetTimestamp() >= ExpiresAt || InFlight >= Held)
        {
            return false;
        }

        InFlight++;
        PeakSinceRenewal = Math.Max(PeakSinceRenewal, InFlight);
        return true;
    }

    public Waiter Enqueue(RequestPriority priority)
    {
        var waiter = new Waiter();
        // Highest priority first, then first come first served.
        _waiters.Enqueue(waiter, (-(int)priority, _arrivals++));
        return waiter;
    }

    /// <summary>Removes a waiter that gave up; false if it was served meanwhile (it holds a slot then).</summary>
    public bool Dequeue(Waiter waiter) => _waiters.Remove(waiter, out _, out _);

    public void Release()
    {
        lock (this)
        {
            InFlight--;
            ServeWaiters();
        }
    }

    /// <summary>The next request to the authority, numbered so a late answer to an earlier one can be told apart.</summary>
    public SlotRequest NextRequest(string holderId, int wanted, int needed) => new()
    {
        HolderId = holderId,
        // Never fewer than the calls in flight: their slots are in use whatever the authority says.
        Wanted = Math.Max(wanted, InFlight),
        Needed = Math.Max(needed, InFlight),
        InFlight = InFlight,
        Sequence = ++_lastSequence,
    };

    /// <summary>Applies the authority's answer unless a newer one was applied already; then serves waiters from it.</summary>
    public bool Apply(SlotRequest request, SlotGrant grant, long sentAt, TimeSpan safetyMargin)
    {
        // An authority that does not echo the sequence (0) is answering this request: the grain call pairs them.
        var sequence = grant.Sequence != 0 ? grant.Sequence : request.Sequence;
        if (sequence < _appliedSequence)
        {
            return false;
        }

        _appliedSequence = sequence;
        Held = grant.Held;
        ExpiresAt = sentAt + (long)((grant.ValidFor - safetyMargin).TotalSeconds * timeProvider.TimestampFrequency);
        ServeWaiters();
        return true;
    }

    private void ServeWaiters()
    {
        while (_waiters.Count > 0 && TryTake())
        {
            _waiters.Dequeue().Serve();
        }
    }

    /// <summary>A caller waiting for a slot; <see cref="Served"/> completes when it has been given one.</summary>
    internal sealed class Waiter
    {
        private readonly TaskCompletionSource _served = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Served => _served.Task;

        public void Serve() => _served.TrySetResult();
    }
}
