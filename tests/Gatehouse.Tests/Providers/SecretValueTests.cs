using Gatehouse.Configuration;
using Xunit;

namespace Gatehouse.Tests.Providers;

public sealed class SecretValueTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("sk-plain", "sk-plain")]
    [InlineData("env:", null)]
    [InlineData("env:GATEHOUSE_TEST_SURELY_UNSET_VARIABLE", null)]
    public void Resolve_Value_ReturnsExpected(string? value, string? expected) =>
        Assert.Equal(expected, SecretValue.Resolve(value));

    [Fact]
    public void Resolve_EnvReference_ReadsVariable()
    {
        var name = "GATEHOUSE_TEST_SECRET_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "s3cret");
        try
        {
            Assert.Equal("s3cret", SecretValue.Resolve("env:" + name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
