using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Options;

namespace Gatehouse.Tests.RateLimiting.Leases;

public sealed class QuotaScopesTests
{
    private static QuotaScopes Scopes()
    {
        var options = new GatehouseOptions
        {
            Apps =
            {
                ["vip"] = new AppOptions { Priority = RequestPriority.High, RequestsPerMinute = 60 },
                ["batch"] = new AppOptions { Priority = RequestPriority.Low },
            },
            RateLimits = new RateLimitOptions { DefaultMaxWaitMs = 250, MaxWaitCapMs = 2_000 },
        };
        return new(Options.Create(options), AppRegistry.FromConfiguration(options));
    }

    [Theory]
    [InlineData("vip", null, RequestPriority.High)]
    [InlineData("vip", RequestPriority.Low, RequestPriority.Low)]
    [InlineData("batch", RequestPriority.High, RequestPriority.Low)]
    [InlineData("unknown", RequestPriority.High, RequestPriority.Normal)]
    public void PriorityOf_RequestHeader_MayOnlyLowerTheAppsPriority(string app, RequestPriority? asked, RequestPriority expected) =>
        Assert.Equal(expected, Scopes().PriorityOf(app, new CallOptions { Priority = asked }));

    [Fact]
    public void App_WithoutLimits_HasNoRateLimits()
    {
        Assert.False(Scopes().App("batch").HasRateLimits);
        Assert.Equal(60, Scopes().App("vip").RequestsPerMinute);
    }
}
