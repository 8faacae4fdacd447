using Gatehouse.RateLimiting;

namespace Gatehouse.Tests.RateLimiting;

public sealed class WindowedBucketTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Available_WindowBoundary_RefillsToTheNextWindowsBudget()
    {
        var bucket = new WindowedBucket(600);
        bucket.Take(10, Start);

        Assert.Equal(0, bucket.Available(Start.AddMilliseconds(999)));
        Assert.False(bucket.CanTake(1, Start.AddMilliseconds(999)));
        Assert.Equal(10, bucket.Available(Start.AddSeconds(1)));
    }

    [Fact]
    public void Return_SameWindow_IsCreditedBack()
    {
        var bucket = new WindowedBucket(600);
        bucket.Take(10, Start);

        bucket.Return(4, grantedAt: Start, now: Start.AddMilliseconds(500));

        Assert.Equal(4, bucket.Available(Start.AddMilliseconds(500)));
    }

    [Fact]
    public void Return_AfterTheWindowEnded_IsLost()
    {
        var bucket = new WindowedBucket(600);
        bucket.Take(10, Start);
        bucket.Take(10, Start.AddSeconds(1));

        bucket.Return(4, grantedAt: Start, now: Start.AddMilliseconds(1_500));

        Assert.Equal(0, bucket.Available(Start.AddMilliseconds(1_500)));
    }

    [Fact]
    public void Owe_MoreThanTheWindowHasLeft_IsPaidByTheNextWindows()
    {
        var bucket = new WindowedBucket(6_000);
        bucket.Take(60, Start);

        bucket.Owe(40 + 100 + 30, Start.AddMilliseconds(100));

        Assert.Equal(0, bucket.Available(Start.AddMilliseconds(900)));
        Assert.Equal(0, bucket.Available(Start.AddSeconds(1)));
        Assert.Equal(70, bucket.Available(Start.AddSeconds(2)));
        Assert.Equal(100, bucket.Available(Start.AddSeconds(3)));
    }

    [Fact]
    public void CanTake_RequestLargerThanAWindow_OnlyIntoAnUntouchedWindowThenCarriesTheExcess()
    {
        var bucket = new WindowedBucket(600);
        bucket.Take(1, Start);

        Assert.False(bucket.CanTake(25, Start));
        Assert.True(bucket.CanTake(25, Start.AddSeconds(1)));

        bucket.Take(25, Start.AddSeconds(1));

        Assert.Equal(0, bucket.Available(Start.AddSeconds(2)));
        Assert.Equal(5, bucket.Available(Start.AddSeconds(3)));
    }

    [Fact]
    public void RemainingInMinute_AfterGrants_CountsTheLastSixtyWindows()
    {
        var bucket = new WindowedBucket(600);
        bucket.Take(10, Start);
        bucket.Take(4, Start.AddSeconds(30));

        Assert.Equal(586, bucket.RemainingInMinute(Start.AddSeconds(30)));
        Assert.Equal(596, bucket.RemainingInMinute(Start.AddSeconds(60)));
        Assert.Equal(600, bucket.RemainingInMinute(Start.AddSeconds(90)));
    }
}
