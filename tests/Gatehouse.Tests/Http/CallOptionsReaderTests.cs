using Gatehouse.Errors;
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
            context.Request.Headers.Append(name, value);
        }

        return CallOptionsReader.Read(context.Request);
    }

    [Fact]
    public void Read_NoHeaders_ReturnsTheSharedDefault() => Assert.Same(CallOptions.Default, Read());

    [Theory]
    [InlineData("no-cache", true, false)]
    [InlineData("no-store", false, true)]
    [InlineData("No-Cache, no-store", true, true)]
    [InlineData("max-age=0", false, false)]
    public void Read_CacheControl_SetsReadAndStoreDirectives(string value, bool noCache, bool noStore)
    {
        var options = Read(("Cache-Control", value));

        Assert.Equal(noCache, options.NoCacheRead);
        Assert.Equal(noStore, options.NoCacheStore);
        Assert.False(options.ForceCache);
    }

    [Theory]
    [InlineData("force")]
    [InlineData(" FORCE ")]
    public void Read_GatehouseCacheHeaderForce_OptsIn(string value)
    {
        Assert.True(Read(("x-gatehouse-cache", value)).ForceCache);
        Assert.True(Read(("x-gatehouse-cache", value), ("Cache-Control", "no-store")).ForceCache);
    }

    [Theory]
    [InlineData("high", RequestPriority.High)]
    [InlineData(" Low ", RequestPriority.Low)]
    [InlineData("NORMAL", RequestPriority.Normal)]
    public void Read_PriorityHeader_ParsesTheThreeLevels(string value, RequestPriority expected) =>
        Assert.Equal(expected, Read(("x-gatehouse-priority", value)).Priority);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("750", 750)]
    public void Read_MaxWaitHeader_ParsesNonNegativeMilliseconds(string value, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Read(("x-gatehouse-max-wait-ms", value)).MaxWait);

    [Theory]
    [InlineData("x-gatehouse-priority", "urgent")]
    [InlineData("x-gatehouse-max-wait-ms", "-5")]
    [InlineData("x-gatehouse-max-wait-ms", "soon")]
    [InlineData("x-gatehouse-cache", "hit")]
    public void Read_UnusableGatewayHeader_IsInvalidRequestNamingTheHeader(string header, string value)
    {
        var error = Assert.Throws<GatewayException>(() => Read((header, value)));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(header, error.Param);
    }

    [Fact]
    public void Read_CacheControlWithPriority_KeepsBoth()
    {
        var options = Read(("Cache-Control", "no-store"), ("x-gatehouse-priority", "low"));

        Assert.True(options.NoCacheStore);
        Assert.False(options.NoCacheRead);
        Assert.Equal(RequestPriority.Low, options.Priority);
    }
}
