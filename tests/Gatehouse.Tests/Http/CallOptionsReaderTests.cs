using Gatehouse.Grains;
using Gatehouse.Silo.Http;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Http;

public sealed class CallOptionsReaderTests
{
    private static CallOptions Read(params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return CallOptionsReader.Read(context.Request);
    }

    [Fact]
    public void Read_NoHeaders_ReturnsTheSharedDefault() => Assert.Same(CallOptions.Default, Read());

    [Theory]
    [InlineData("high", RequestPriority.High)]
    [InlineData(" Low ", RequestPriority.Low)]
    [InlineData("NORMAL", RequestPriority.Normal)]
    [InlineData("urgent", null)]
    public void Read_PriorityHeader_ParsesTheThreeLevelsAndIgnoresOthers(string value, RequestPriority? expected) =>
        Assert.Equal(expected, Read(("x-gatehouse-priority", value)).Priority);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("750", 750)]
    [InlineData("-5", null)]
    [InlineData("soon", null)]
    public void Read_MaxWaitHeader_ParsesNonNegativeMilliseconds(string value, int? expectedMs) =>
        Assert.Equal(expectedMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, Read(("x-gatehouse-max-wait-ms", value)).MaxWait);

    [Fact]
    public void Read_CacheControlWithPriority_KeepsBoth()
    {
        var options = Read(("Cache-Control", "no-store"), ("x-gatehouse-priority", "low"));

        Assert.True(options.NoCacheStore);
        Assert.False(options.NoCacheRead);
        Assert.Equal(RequestPriority.Low, options.Priority);
    }
}
