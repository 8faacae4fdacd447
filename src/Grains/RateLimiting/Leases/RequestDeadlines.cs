using Gatehouse.Configuration;
using Gatehouse.Grains;
using Microsoft.Extensions.Options;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>Starts each request's <see cref="RequestDeadline"/> from its <c>x-gatehouse-max-wait-ms</c> or the configured defaults.</summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class RequestDeadlines(IOptions<GatehouseOptions> options, TimeProvider timeProvider)
{
    private readonly TimeSpan _cap = TimeSpan.FromMilliseconds(options.Value.RateLimits.MaxWaitCapMs);
    private readonly TimeSpan _routingDefault = TimeSpan.FromMilliseconds(options.Value.Routing.MaxWaitMs);
    private readonly TimeSpan _bucketDefault = TimeSpan.FromMilliseconds(options.Value.RateLimits.DefaultMaxWaitMs);

    /// <summary>
    /// The deadline of a request: <paramref name="remaining"/> when an earlier stage started it already, else the
    /// header capped at <c>RateLimits:MaxWaitCapMs</c>, else <c>Routing:MaxWaitMs</c>. Without the header each bucket
    /// wait is also capped at <c>RateLimits:DefaultMaxWaitMs</c>.
    /// </summary>
    public RequestDeadline Start(CallOptions callOptions, TimeSpan? remaining = null)
    {
        var budget = remaining ?? (callOptions.MaxWait is { } asked ? Clamp(asked) : _routingDefault);
        var bucketCap = callOptions.MaxWait is null ? _bucketDefault : TimeSpan.MaxValue;
        return new RequestDeadline(timeProvider, budget, bucketCap);
    }

    private TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _cap ? _cap : wait;
}
