using System.Net;
using Gatehouse.Client;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Xunit;

namespace Gatehouse.Tests.Client;

public sealed class GatehouseClientOptionsTests
{
    private static ValidateOptionsResult Validate(GatehouseClientOptions options)
    {
        var generated = new GatehouseClientOptionsValidator().Validate(null, options);
        var crossField = new GatehouseClientOptionsCrossFieldValidator().Validate(null, options);
        return generated.Failed || crossField.Failed
            ? ValidateOptionsResult.Fail((generated.Failures ?? []).Concat(crossField.Failures ?? []))
            : ValidateOptionsResult.Success;
    }

    [Fact]
    public void Defaults_AppKeySet_AreValidLocalhostGatehouseCluster()
    {
        var options = new GatehouseClientOptions { AppKey = "gk-local-dev" };

        Assert.True(Validate(options).Succeeded);
        Assert.Equal(GatehouseClusterKind.Localhost, options.Cluster);
        Assert.Equal(30000, options.GatewayPort);
        Assert.Equal("gatehouse", options.ClusterId);
        Assert.Equal("gatehouse", options.ServiceId);
        Assert.Null(options.DefaultModel);
        Assert.Equal(2, options.MaxRetries);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void Validate_MaxRetriesOutOfRange_FailsNamingMaxRetries(int maxRetries)
    {
        var result = Validate(new GatehouseClientOptions { AppKey = "gk-local-dev", MaxRetries = maxRetries });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("MaxRetries", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_AppKeyMissing_FailsNamingAppKey()
    {
        var result = Validate(new GatehouseClientOptions());

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(nameof(GatehouseClientOptions.AppKey), StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_StaticGatewaysEmpty_FailsNamingGateways()
    {
        var result = Validate(new GatehouseClientOptions { AppKey = "k", Cluster = GatehouseClusterKind.StaticGateways });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(nameof(GatehouseClientOptions.Gateways), StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsAll()
    {
        var options = new GatehouseClientOptions
        {
            Cluster = GatehouseClusterKind.StaticGateways,
            Gateways = ["silo-1:30000", "no-port", "silo-2:70000"],
            GatewayPort = 0,
            ClusterId = " ",
        };

        var failures = Validate(options).Failures!.ToList();

        Assert.Contains(failures, f => f.Contains("AppKey", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'no-port'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'silo-2:70000'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("GatewayPort", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("ClusterId", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("'silo-1:30000'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("silo-1:30000", "silo-1", 30000)]
    [InlineData("10.0.0.5:30001", "10.0.0.5", 30001)]
    [InlineData("[::1]:30000", "::1", 30000)]
    [InlineData(" localhost:1 ", "localhost", 1)]
    public void GatewayTryParse_ValidEndpoint_ReturnsHostAndPort(string endpoint, string host, int port)
    {
        Assert.True(GatewayEndpoints.TryParse(endpoint, out var parsedHost, out var parsedPort));
        Assert.Equal((host, port), (parsedHost, parsedPort));
    }

    [Theory]
    [InlineData("")]
    [InlineData("silo")]
    [InlineData(":30000")]
    [InlineData("silo:")]
    [InlineData("silo:0")]
    [InlineData("silo:65536")]
    [InlineData("silo:-1")]
    [InlineData("::1:30000")]
    public void GatewayTryParse_InvalidEndpoint_ReturnsFalse(string endpoint)
    {
        Assert.False(GatewayEndpoints.TryParse(endpoint, out _, out _));
    }

    [Fact]
    public void AddGatehouseClient_Localhost_ConfiguresLoopbackGatewayAndClusterIds()
    {
        var services = new ServiceCollection();
        services.AddGatehouseClient(o =>
        {
            o.AppKey = "k";
            o.GatewayPort = 31000;
            o.ClusterId = "c1";
            o.ServiceId = "s1";
        });
        using var provider = services.BuildServiceProvider();

        var gateways = provider.GetRequiredService<IOptions<StaticGatewayListProviderOptions>>().Value.Gateways;
        var cluster = provider.GetRequiredService<IOptions<ClusterOptions>>().Value;

        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 31000).ToGatewayUri()], gateways);
        Assert.Equal(("c1", "s1"), (cluster.ClusterId, cluster.ServiceId));
    }

    [Fact]
    public void AddGatehouseClient_StaticGateways_ConfiguresEveryEndpoint()
    {
        var services = new ServiceCollection();
        services.AddGatehouseClient(o =>
        {
            o.AppKey = "k";
            o.Cluster = GatehouseClusterKind.StaticGateways;
            o.Gateways = ["10.0.0.1:30000", "10.0.0.2:30001"];
        });
        using var provider = services.BuildServiceProvider();

        var gateways = provider.GetRequiredService<IOptions<StaticGatewayListProviderOptions>>().Value.Gateways;

        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("10.0.0.1"), 30000).ToGatewayUri(), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 30001).ToGatewayUri()],
            gateways);
    }

    [Theory]
    [InlineData(GatehouseClusterKind.Localhost, "StaticGatewayListProvider")]
    [InlineData(GatehouseClusterKind.StaticGateways, "StaticGatewayListProvider")]
    [InlineData(GatehouseClusterKind.AdoNet, "AdoNetGatewayListProvider")]
    public void AddGatehouseClient_ClusterKind_HandsOrleansThatGatewayListAndTimeouts(GatehouseClusterKind kind, string providerType)
    {
        var services = new ServiceCollection();
        services.AddGatehouseClient(o =>
        {
            o.AppKey = "k";
            o.Cluster = kind;
            o.Gateways = ["127.0.0.1:30000"];
            o.ConnectionString = "Host=127.0.0.1;Port=1;Username=u;Database=d";
            o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(3);
            o.CallTimeout = TimeSpan.FromSeconds(45);
        });
        using var provider = services.BuildServiceProvider();

        Assert.Equal(providerType, provider.GetRequiredService<Orleans.Messaging.IGatewayListProvider>().GetType().Name);
        Assert.Equal(TimeSpan.FromSeconds(3), provider.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod);
        Assert.Equal(TimeSpan.FromSeconds(45), provider.GetRequiredService<IOptions<ClientMessagingOptions>>().Value.ResponseTimeout);
    }

    [Fact]
    public void Validate_AdoNetWithoutConnectionStringOrBadPeriods_NamesEachOption()
    {
        var result = Validate(new GatehouseClientOptions
        {
            AppKey = "k",
            Cluster = GatehouseClusterKind.AdoNet,
            GatewayListRefreshPeriod = TimeSpan.Zero,
            CallTimeout = TimeSpan.FromHours(2),
        });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("ConnectionString is required when Cluster is AdoNet", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("GatewayListRefreshPeriod must be more than 0", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("CallTimeout must be at least 1 second and at most 1 hour", StringComparison.Ordinal));
    }

    [Fact]
    public void AddGatehouseClient_Registered_ResolvesSingletonGatehouseChatClient()
    {
        var services = new ServiceCollection();
        services.AddGatehouseClient(o => { o.AppKey = "k"; o.DefaultModel = "sim"; });
        using var provider = services.BuildServiceProvider();

        var chat = provider.GetRequiredService<IChatClient>();

        Assert.IsType<GatehouseChatClient>(chat);
        Assert.Same(chat, provider.GetRequiredService<GatehouseChatClient>());
        var metadata = chat.GetService<ChatClientMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal(("gatehouse", "sim"), (metadata.ProviderName, metadata.DefaultModelId));
        Assert.Same(chat, chat.GetService<GatehouseChatClient>());
        Assert.NotNull(chat.GetService<IClusterClient>());
        Assert.Null(chat.GetService<ChatClientMetadata>("some-key"));
    }

    [Fact]
    public void AddGatehouseClient_Registered_ResolvesSingletonEmbeddingGeneratorBesideTheChatClient()
    {
        var services = new ServiceCollection();
        services.AddGatehouseClient(o => { o.AppKey = "k"; o.DefaultEmbeddingModel = "sim-embed"; });
        using var provider = services.BuildServiceProvider();

        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        Assert.IsType<GatehouseEmbeddingGenerator>(generator);
        Assert.Same(generator, provider.GetRequiredService<GatehouseEmbeddingGenerator>());
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal(("gatehouse", "sim-embed"), (metadata.ProviderName, metadata.DefaultModelId));
        Assert.NotNull(generator.GetService<IClusterClient>());
    }

    [Fact]
    public async Task HostStart_AppKeyMissing_ThrowsOptionsValidationBeforeConnecting()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddGatehouseClient(_ => { });
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("AppKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGatehouseClient_HostBuilderWithConfiguration_BindsClientSectionThenAppliesOverride()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gatehouse:Client:AppKey"] = "gk-from-config",
            ["Gatehouse:Client:Cluster"] = "StaticGateways",
            ["Gatehouse:Client:Gateways:0"] = "10.1.2.3:30000",
            ["Gatehouse:Client:DefaultModel"] = "gpt-4o",
        });
        builder.AddGatehouseClient(o => o.DefaultModel = "claude");
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<GatehouseClientOptions>>().Value;

        Assert.Equal("gk-from-config", options.AppKey);
        Assert.Equal(GatehouseClusterKind.StaticGateways, options.Cluster);
        Assert.Equal(["10.1.2.3:30000"], options.Gateways);
        Assert.Equal("claude", options.DefaultModel);
    }
}
