using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Tests.Support;
using Xunit;

namespace Gatehouse.Tests.Apps;

public sealed class AppRegistryTests
{
    [Fact]
    public void Authenticate_PlainConfiguredKey_ReturnsApp()
    {
        using var registry = new AppRegistry(Monitor(new AppOptions { Keys = ["plain-key"] }));

        Assert.Equal("app", registry.Authenticate("plain-key")?.AppId);
    }

    [Fact]
    public void Authenticate_KeyConfiguredOnlyAsSha256_AcceptsThePlainKey()
    {
        using var registry = new AppRegistry(Monitor(new AppOptions { Keys = ["sha256:" + AppKeyHasher.Hash("secret").ToUpperInvariant()] }));

        Assert.Equal("app", registry.Authenticate("secret")?.AppId);
    }

    [Fact]
    public void Authenticate_PresentedHashInsteadOfKey_ReturnsNull()
    {
        var hash = AppKeyHasher.Hash("secret");
        using var registry = new AppRegistry(Monitor(new AppOptions { Keys = ["secret"] }));

        // Only the hash is stored, so a leaked hash must not work as a credential.
        Assert.Null(registry.Authenticate(hash));
        Assert.Null(registry.Authenticate("sha256:" + hash));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-key")]
    [InlineData("Plain-Key")]
    public void Authenticate_MissingOrUnknownKey_ReturnsNull(string? presented)
    {
        using var registry = new AppRegistry(Monitor(new AppOptions { Keys = ["plain-key"] }));

        Assert.Null(registry.Authenticate(presented));
    }

    [Fact]
    public void Authenticate_EnvironmentKey_ReturnsApp()
    {
        var variable = $"GATEHOUSE_TEST_APPKEY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "from-env");
        try
        {
            using var registry = new AppRegistry(Monitor(new AppOptions { Keys = [$"env:{variable}"] }));

            Assert.Equal("app", registry.Authenticate("from-env")?.AppId);
            Assert.Null(registry.Authenticate($"env:{variable}"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Find_CacheSettings_DefaultToOwnNamespaceAndDeterministicOnly()
    {
        using var plain = new AppRegistry(Monitor(new AppOptions { Keys = ["k"] }));
        using var shared = new AppRegistry(Monitor(new AppOptions { Keys = ["k"], CacheNamespace = "team", CacheAllRequests = true }));

        Assert.Equal("app", plain.Find("app")!.CacheNamespace);
        Assert.False(plain.Find("app")!.CacheAllRequests);
        Assert.Equal("team", shared.Find("app")!.CacheNamespace);
        Assert.True(shared.Find("app")!.CacheAllRequests);
    }

    [Fact]
    public void Find_AppWithModels_MayUseOnlyThose()
    {
        using var registry = new AppRegistry(Monitor(new AppOptions { Keys = ["k"], Models = ["gpt"] }));

        var app = registry.Find("app");

        Assert.NotNull(app);
        Assert.True(app.MayUse("gpt"));
        Assert.False(app.MayUse("claude"));
        Assert.Null(registry.Find("other"));
    }

    [Fact]
    public void Find_AppWithoutModels_MayUseEveryAlias()
    {
        using var registry = new AppRegistry(Monitor(new AppOptions { Keys = ["k"] }));

        var app = registry.Find("app");

        Assert.NotNull(app);
        Assert.Null(app.AllowedModels);
        Assert.True(app.MayUse("anything"));
    }

    [Fact]
    public void Authenticate_AfterConfigurationChange_UsesNewKeys()
    {
        var monitor = Monitor(new AppOptions { Keys = ["old-key"] });
        using var registry = new AppRegistry(monitor);

        monitor.Set(Options(new AppOptions { Keys = ["new-key"] }));

        Assert.Null(registry.Authenticate("old-key"));
        Assert.Equal("app", registry.Authenticate("new-key")?.AppId);
    }

    private static TestOptionsMonitor<GatehouseOptions> Monitor(AppOptions app) => new(Options(app));

    private static GatehouseOptions Options(AppOptions app) => new() { Apps = { ["app"] = app } };
}
