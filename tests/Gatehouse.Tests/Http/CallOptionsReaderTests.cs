using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Silo.Http;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Http;

public sealed class CallOptionsReaderTests
{
    [Fact]
    public void Read_NoHeaders_IsTheDefault()
    {
        Assert.Same(CallOptions.Default, CallOptionsReader.Read(new DefaultHttpContext().Request));
    }

    [Fact]
    public void Read_MaxWaitHeader_SetsMaxWait()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-gatehouse-max-wait-ms"] = "2500";
        context.Request.Headers.CacheControl = "no-store";

        var options = CallOptionsReader.Read(context.Request);

        Assert.Equal(new CallOptions { NoCacheStore = true, MaxWait = TimeSpan.FromMilliseconds(2500) }, options);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("600001")]
    public void Read_MaxWaitHeaderInvalid_IsInvalidRequestNamingTheHeader(string value)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-gatehouse-max-wait-ms"] = value;

        var error = Assert.Throws<GatewayException>(() => CallOptionsReader.Read(context.Request));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("x-gatehouse-max-wait-ms", error.Param);
    }
}
