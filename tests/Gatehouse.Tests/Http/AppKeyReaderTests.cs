using Gatehouse.Silo.Http;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class AppKeyReaderTests
{
    [Theory]
    [InlineData("Bearer gh-key")]
    [InlineData("bearer gh-key")]
    [InlineData("BEARER gh-key")]
    [InlineData("Bearer   gh-key  ")]
    public void Read_BearerAnyCase_ReturnsTrimmedKey(string authorization)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = authorization;

        Assert.Equal("gh-key", AppKeyReader.Read(context.Request));
    }

    [Fact]
    public void Read_XApiKey_ReturnsKey()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-api-key"] = " gh-key ";

        Assert.Equal("gh-key", AppKeyReader.Read(context.Request));
    }

    [Fact]
    public void Read_BothHeaders_PrefersBearer()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Bearer from-bearer";
        context.Request.Headers["x-api-key"] = "from-x-api-key";

        Assert.Equal("from-bearer", AppKeyReader.Read(context.Request));
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer ")]
    [InlineData("Bearer    ")]
    public void Read_NonBearerOrEmptyBearer_FallsBackToXApiKey(string authorization)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = authorization;
        context.Request.Headers["x-api-key"] = "from-x-api-key";

        Assert.Equal("from-x-api-key", AppKeyReader.Read(context.Request));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    public void Read_NoUsableKey_ReturnsNull(string? authorization)
    {
        var context = new DefaultHttpContext();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        Assert.Null(AppKeyReader.Read(context.Request));
    }

    [Fact]
    public void Read_BlankXApiKey_ReturnsNull()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-api-key"] = "   ";

        Assert.Null(AppKeyReader.Read(context.Request));
    }
}
