using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>One call's ask for a concurrency slot of a scope: the resource a <see cref="ConcurrencyLimiter"/> admits.</summary>
/// <param name="Scope">The scope whose <see cref="QuotaScope.MaxConcurrency"/> applies.</param>
/// <param name="Priority">Waiters are served highest priority first, then first come, first served.</param>
/// <param name="MaxWait">How long the call may wait for a slot.</param>
public readonly record struct SlotDemand(QuotaScope Scope, RequestPriority Priority, TimeSpan MaxWait);
