using Gatehouse.Configuration;
using Xunit;

namespace Gatehouse.Tests.Configuration;

public sealed class SettingKeysTests
{
    [Theory]
    [InlineData("Gatehouse", "MaxRequestBodyBytes", "Gatehouse:MaxRequestBodyBytes")]
    [InlineData("Gatehouse", "Cluster.SiloPort", "Gatehouse:Cluster:SiloPort")]
    [InlineData("Gatehouse:Providers:up", "CircuitBreaker.BreakSeconds", "Gatehouse:Providers:up:CircuitBreaker:BreakSeconds")]
    [InlineData("Gatehouse:Models:gpt-4.1", "Targets[12].Weight", "Gatehouse:Models:gpt-4.1:Targets:12:Weight")]
    [InlineData("Gatehouse:Apps:a.b[1]", "Burst", "Gatehouse:Apps:a.b[1]:Burst")]
    public void FromDisplayName_NameTheGeneratorGave_IsTheConfigurationKey(string sectionKey, string generatedPath, string expected)
    {
        // What a generated validator called with ValidatorName(sectionKey) gives the setting as its display name.
        var displayName = $"{SettingKeys.ValidatorName(sectionKey)}.{generatedPath}";

        Assert.Equal(expected, SettingKeys.FromDisplayName(displayName));
    }
}
