using System.Text;
using Gatehouse.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gatehouse.Tests.Configuration;

/// <summary>The options as the silo builds them: checked, bound and validated, every failure in one exception.</summary>
public sealed class CheckedGatehouseBindingTests
{
    private const string TimeoutRange = "greater than 0 and at most 600 (an upstream call must end within the ten-minute grain call it runs in)";

    [Theory]
    [InlineData("\"TimeoutSeconds\": \"abc\"", $"Gatehouse:Providers:up:TimeoutSeconds 'abc' is not a number {TimeoutRange}.")]
    [InlineData("\"TokensPerMinute\": 6000000000", "Gatehouse:Providers:up:TokensPerMinute '6000000000' is not a whole number between 1 and 1000000000.")]
    [InlineData("\"CircuitBreaker\": { \"FailureThreshold\": \"x\" }", "Gatehouse:Providers:up:CircuitBreaker:FailureThreshold 'x' is not a whole number between 1 and 1000000000.")]
    public void Options_ProviderValueThatDoesNotBind_IsTheOnlyFailure(string setting, string expected)
    {
        // Before the check the binder dropped the provider, and the failure read "Provider 'up' is not a configured provider".
        var failures = Failures($$"""
        {
          "Providers": { "up": { "Kind": "Simulated", {{setting}} } },
          "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x" } ] } },
          "Apps": { "billing": { "Keys": [ "k" ], "Models": [ "m" ] } }
        }
        """);

        Assert.Equal([expected], failures);
    }

    [Fact]
    public void Options_WeightThatDoesNotBind_IsTheOnlyFailure()
    {
        var failures = Failures("""
        {
          "Providers": { "up": { "Kind": "Simulated" } },
          "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x", "Weight": "heavy" } ] } },
          "Apps": { "billing": { "Keys": [ "k" ], "Models": [ "m" ] } }
        }
        """);

        Assert.Equal(["Gatehouse:Models:m:Targets:0:Weight 'heavy' is not a number greater than 0 and at most 1000000."], failures);
    }

    [Fact]
    public void Options_ValuesThatDoNotBindAndValuesOutOfRange_AreReportedTogether()
    {
        var failures = Failures("""
        {
          "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": 1e300 } },
          "Apps": { "billing": { "Keys": [ "k" ], "Priority": "Urgent" } },
          "Cache": { "MaxEntryBytes": 3000000000 },
          "MaxRequestBodyBytes": -1,
          "Cluster": { "SiloPort": 70000 }
        }
        """);

        Assert.Equal(
        [
            "Gatehouse:Apps:billing:Priority 'Urgent' is not one of Low, Normal, High.",
            "Gatehouse:Cache:MaxEntryBytes '3000000000' is not a whole number between 1 and 1073741824.",
            $"Gatehouse:Providers:up:TimeoutSeconds must be a number {TimeoutRange}; it is 1E+300.",
            "Gatehouse:Cluster:SiloPort must be a whole number between 1 and 65535; it is 70000.",
            "Gatehouse:MaxRequestBodyBytes must be a whole number between 1 and 1073741824; it is -1.",
        ], failures);
    }

    [Fact]
    public void Options_ValidConfiguration_BindsEverySetting()
    {
        var options = Build("""
        {
          "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": 1.5, "TokensPerMinute": 1000, "CircuitBreaker": { "BreakSeconds": 2 } } },
          "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x", "Weight": 3 } ], "HedgeAfterMs": 250 } },
          "Apps": { "billing": { "Keys": [ "k" ], "Priority": "high" } },
          "Client": { "NotTheSilos": "setting" },
          "Cluster": { "SiloPort": 11112, "GatewayPort": 30001 }
        }
        """).GetRequiredService<IOptions<GatehouseOptions>>().Value;

        Assert.Equal(1.5, options.Providers["up"].TimeoutSeconds);
        Assert.Equal(1000, options.Providers["up"].TokensPerMinute);
        Assert.Equal(2, options.Providers["up"].CircuitBreaker.BreakSeconds);
        Assert.Equal(3, options.Models["m"].Targets[0].Weight);
        Assert.Equal(250, options.Models["m"].HedgeAfterMs);
        Assert.Equal(Grains.RequestPriority.High, options.Apps["billing"].Priority);
        Assert.Equal(11112, options.Cluster.SiloPort);
    }

    [Fact]
    public void Options_SiloPortEqualToGatewayPort_IsRefused()
    {
        var failures = Failures("""{ "Cluster": { "SiloPort": 30000, "GatewayPort": 30000 } }""");

        Assert.Equal(["Gatehouse:Cluster:GatewayPort must differ from Gatehouse:Cluster:SiloPort; both are 30000."], failures);
    }

    [Fact]
    public void Options_ConfigurationReloaded_MonitorBindsTheNewValues()
    {
        // AppRegistry follows IOptionsMonitor changes: the checked binding must still report a reload.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Gatehouse:Cache:TtlSeconds"] = "60" })
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddGatehouseGrains(configuration.GetSection(GatehouseOptions.SectionName));
        using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IOptionsMonitor<GatehouseOptions>>();
        Assert.Equal(60, monitor.CurrentValue.Cache.TtlSeconds);

        configuration["Gatehouse:Cache:TtlSeconds"] = "5";
        configuration.Reload();

        Assert.Equal(5, monitor.CurrentValue.Cache.TtlSeconds);
    }

    private static IReadOnlyList<string> Failures(string section)
    {
        var services = Build(section);
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<GatehouseOptions>>().Value);
        return [.. error.Failures];
    }

    private static ServiceProvider Build(string section)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""{ "Gatehouse": {{section}} }""")))
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddGatehouseGrains(configuration.GetSection(GatehouseOptions.SectionName));
        return services.BuildServiceProvider();
    }
}
