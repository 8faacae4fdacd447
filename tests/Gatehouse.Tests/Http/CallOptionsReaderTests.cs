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
    public void Read_NoHeaders_IsDefault()
    {
        Assert.Same(CallOptions.Default, Read());
    }

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
    [InlineData("force", true)]
    [InlineData(" FORCE ", true)]
    [InlineData("hit", false)]
    public void Read_GatehouseCacheHeader_ForceOptsIn(string value, bool force)
    {
        Assert.Equal(force, Read(("x-gatehouse-cache", value)).ForceCache);
        Assert.Equal(force, Read(("x-gatehouse-cache", value), ("Cache-Control", "no-store")).ForceCache);
    }
}
