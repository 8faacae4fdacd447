using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.RateLimiting.Leases;

public sealed class RequestDeadlinesTests
{
    private readonly FakeTimeProvider _time = new();

    private RequestDeadlines Deadlines() => new(Options.Create(new GatehouseOptions
    {
        RateLimits = new RateLimitOptions { DefaultMaxWaitMs = 250, MaxWaitCapMs = 2_000 },
        Routing = { MaxWaitMs = 1_500 },
    }), _time);

    private static CallOptions Asking(int? ms) => new() { MaxWait = ms is { } wait ? TimeSpan.FromMilliseconds(wait) : null };

    [Theory]
    [InlineData(null, 1_500, 250)]
    [InlineData(0, 0, 0)]
    [InlineData(900, 900, 900)]
    [InlineData(60_000, 2_000, 2_000)]
    public void Start_RequestHeader_IsTheWholeBudgetCappedOrTheRoutingDefaultWithCappedBuckets(int? askedMs, int remainingMs, int bucketMs)
    {
        var deadline = Deadlines().Start(Asking(askedMs));

        Assert.Equal(TimeSpan.FromMilliseconds(remainingMs), deadline.Remaining);
        Assert.Equal(TimeSpan.FromMilliseconds(bucketMs), deadline.BucketWait);
    }

    [Fact]
    public void Start_RemainingFromAnEarlierStage_ReplacesTheHeadersBudget()
    {
        var deadline = Deadlines().Start(Asking(900), remaining: TimeSpan.FromMilliseconds(300));

        Assert.Equal(TimeSpan.FromMilliseconds(300), deadline.Remaining);
    }

    [Fact]
    public void Remaining_TimePasses_IsSpentAndNeverNegative()
    {
        var deadline = Deadlines().Start(Asking(900));

        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.FromMilliseconds(300), deadline.Remaining);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.Zero, deadline.Remaining);
        Assert.Equal(TimeSpan.Zero, deadline.BucketWait);
    }
}
