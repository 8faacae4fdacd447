using Gatehouse.Silo.Http;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class ImageUrlPolicyTests
{
    [Theory]
    [InlineData("https://example.com/cat.png")]
    [InlineData("HTTPS://example.com/cat.png?size=2")]
    [InlineData("data:image/png;base64,iVBORw0KGgo=")]
    [InlineData("DATA:image/jpeg;BASE64,AAAA")]
    public void IsAllowed_HttpsAndBase64Images_AreAllowed(string url)
    {
        Assert.True(ImageUrlPolicy.HttpsOnly.IsAllowed(url));
        Assert.True(ImageUrlPolicy.HttpAllowed.IsAllowed(url));
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://127.0.0.1:6379/_FLUSHALL")]
    [InlineData("ftp://example.com/a.png")]
    [InlineData("/etc/passwd")]
    [InlineData("example.com/cat.png")]
    [InlineData("https://user:pw@example.com/cat.png")]
    [InlineData("data:text/html;base64,PGgxPg==")]
    [InlineData("data:image/png,rawbytes")]
    [InlineData("data:image/png;base64,not base64!")]
    [InlineData("data:image/png;base64,")]
    [InlineData("data:;base64,AAAA")]
    [InlineData("")]
    public void IsAllowed_OtherSchemesAndMalformedDataUris_AreRefused(string url)
    {
        Assert.False(ImageUrlPolicy.HttpsOnly.IsAllowed(url));
        Assert.False(ImageUrlPolicy.HttpAllowed.IsAllowed(url));
    }

    [Fact]
    public void IsAllowed_Http_OnlyWhenTheOperatorAllowsIt()
    {
        Assert.False(ImageUrlPolicy.HttpsOnly.IsAllowed("http://192.168.1.5/cat.png"));
        Assert.True(ImageUrlPolicy.HttpAllowed.IsAllowed("http://192.168.1.5/cat.png"));
        Assert.Same(ImageUrlPolicy.HttpAllowed, ImageUrlPolicy.For(allowHttp: true));
        Assert.Same(ImageUrlPolicy.HttpsOnly, ImageUrlPolicy.For(allowHttp: false));
    }
}
