using Gatehouse.Grains;

namespace Gatehouse.RateLimiting;

/// <summary>The authority's side of a concurrency cap: slots leased to holders (silos) for a time-to-live, renewed while in use.</summary>
/// <remarks>
/// Not thread-safe: owned by one grain activation. A holder that stops renewing (a dead silo) keeps its slots until
/// its lease expires plus <c>grace</c> — the longest an upstream call may last, so a call admitted just before the
/// expiry is still counted until it must have ended. Conservative by design: live silos may be refused capacity a
/// dead silo held for up to one lease time-to-live plus the grace.
/// </remarks>
internal sealed class SlotLedger(int? limit, TimeSpan ttl, TimeSpan grace)
{
    private readonly Dictionary<string, (int Held, DateTimeOffset Expires)> _holders = new(StringComparer.Ordinal);

    public int? Limit => limit;

    public SlotGrant Lease(SlotRequest request, DateTimeOffset now)
    {
        if (limit is not { } cap)
        {
            return new SlotGrant { Held = request.Wanted, ValidFor = ttl };
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
                var free = lease.Expires + grace;
                firstFree = firstFree is null || free < firstFree ? free : firstFree;
            }
        }

        var held = Math.Min(Math.Max(request.Wanted, request.Needed), cap - others);
        if (held < request.Needed)
        {
            // Keep what the holder already had in flight; refuse the extra slot.
            var kept = Math.Max(0, Math.Min(request.Needed - 1, cap - others));
            Set(request.HolderId, kept, now);
            return new SlotGrant { Held = kept, ValidFor = ttl, Limit = cap, RetryAfter = firstFree is { } f ? f - now : ttl };
        }

        Set(request.HolderId, held, now);
        return new SlotGrant { Held = held, ValidFor = ttl, Limit = cap };
    }

    public int HeldBy(string holderId) => _holders.TryGetValue(holderId, out var lease) ? lease.Held : 0;

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
