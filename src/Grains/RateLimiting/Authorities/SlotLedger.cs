using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Authorities;

/// <summary>The authority's side of a concurrency cap: slots leased to holders (silos) for a time-to-live, renewed while in use.</summary>
/// <remarks>
/// Not thread-safe: owned by one grain activation. A holder that stops renewing (a dead silo) keeps its slots until
/// its lease expires plus <c>grace</c> — the longest an upstream call may last, so a call admitted just before the
/// expiry is still counted until it must have ended. Conservative by design: live silos may be refused capacity a
/// dead silo held for up to one lease time-to-live plus the grace. Slots a holder has in flight are never taken from
/// it, so the cap can only be refused to new calls. Expiries are wall-clock (UTC) because they are persisted and read
/// back by an activation on another silo. Slots beyond what a holder needs now are granted only up to
/// <c>maxBatchShare</c> of the free ones, so one silo's prefetch cannot starve the next silo's first call.
/// </remarks>
internal sealed class SlotLedger(int? limit, TimeSpan ttl, TimeSpan grace, double maxBatchShare = 1.0)
{
    private readonly Dictionary<string, (int Held, DateTimeOffset Expires)> _holders = new(StringComparer.Ordinal);

    public int? Limit => limit;

    public SlotGrant Lease(SlotRequest request, DateTimeOffset now)
    {
        if (limit is not { } cap)
        {
            return new SlotGrant { Held = Math.Max(request.Wanted, request.Needed), ValidFor = ttl, Sequence = request.Sequence };
        }

        var others = 0;
        DateTimeOffset? firstFree = null;
        foreach (var (holder, lease) in _holders.ToArray())
        {
            if (lease.Expires + grace <= now)
            {
                _holders.Remove(holder);
            }
            else if (holder != request.HolderId)
            {
                others += lease.Held;
                var freedAt = lease.Expires + grace;
                firstFree = firstFree is null || freedAt < firstFree ? freedAt : firstFree;
            }
        }

        var inFlight = Math.Max(0, request.InFlight);
        var free = cap - others;
        var spare = Math.Max(0, (int)((free - request.Needed) * maxBatchShare));
        var wanted = Math.Min(Math.Max(request.Wanted, request.Needed), request.Needed + spare);
        var held = Math.Max(inFlight, Math.Min(wanted, free));
        Set(request.HolderId, held, now);
        return held < request.Needed
            ? new SlotGrant { Held = held, ValidFor = ttl, Limit = cap, RetryAfter = firstFree is { } f ? f - now : ttl, Sequence = request.Sequence }
            : new SlotGrant { Held = held, ValidFor = ttl, Limit = cap, Sequence = request.Sequence };
    }

    public List<SlotHolderRecord> ToRecord() =>
        [.. _holders.Select(h => new SlotHolderRecord { HolderId = h.Key, Held = h.Value.Held, ExpiresAtTicks = h.Value.Expires.UtcTicks })];

    public void Restore(IEnumerable<SlotHolderRecord> holders)
    {
        _holders.Clear();
        foreach (var holder in holders)
        {
            _holders[holder.HolderId] = (holder.Held, new DateTimeOffset(holder.ExpiresAtTicks, TimeSpan.Zero));
        }
    }

    private void Set(string holderId, int held, DateTimeOffset now)
    {
        if (held <= 0)
        {
            _holders.Remove(holderId);
        }
        else
        {
            _holders[holderId] = (held, now + ttl);
        }
    }
}
