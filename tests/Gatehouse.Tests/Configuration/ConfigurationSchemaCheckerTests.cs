using System.Text;
using Gatehouse.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gatehouse.Tests.Configuration;

public sealed class ConfigurationSchemaCheckerTests
{
    private const string TimeoutRange = "greater than 0 and at most 600 (an upstream call must end within the ten-minute grain call it runs in)";

    public static TheoryData<string, string> ValuesThatDoNotBind => new()
    {
        // the Gatehouse section (JSON), the one message expected
        { """{ "Apps": { "billing": { "Keys": [ "k" ], "TokensPerMinute": 6000000000 } } }""", "Gatehouse:Apps:billing:TokensPerMinute '6000000000' is not a whole number between 1 and 1000000000." },
        { """{ "Apps": { "billing": { "Keys": [ "k" ], "TokensPerMinute": "abc" } } }""", "Gatehouse:Apps:billing:TokensPerMinute 'abc' is not a whole number between 1 and 1000000000." },
        { """{ "Apps": { "billing": { "Keys": [ "k" ], "TokensPerMinute": 0.5 } } }""", "Gatehouse:Apps:billing:TokensPerMinute '0.5' is not a whole number between 1 and 1000000000." },
        { """{ "Apps": { "billing": { "Keys": [ "k" ], "Priority": "Urgent" } } }""", "Gatehouse:Apps:billing:Priority 'Urgent' is not one of Low, Normal, High." },
        { """{ "Apps": { "billing": { "Keys": [ "k" ], "Priority": "2" } } }""", "Gatehouse:Apps:billing:Priority '2' is not one of Low, Normal, High." },
        { """{ "Apps": { "billing": { "Keys": [ "k" ], "Priority": "High,Low" } } }""", "Gatehouse:Apps:billing:Priority 'High,Low' is not one of Low, Normal, High." },
        { """{ "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x" } ], "HedgeAfterMs": 99999999999 } } }""", "Gatehouse:Models:m:HedgeAfterMs '99999999999' is not a whole number between 1 and 600000." },
        { """{ "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x", "Weight": "heavy" } ] } } }""", "Gatehouse:Models:m:Targets:0:Weight 'heavy' is not a number greater than 0 and at most 1000000." },
        { """{ "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x" } ], "Pricing": { "InputPerMillion": "1,5" } } } }""", "Gatehouse:Models:m:Pricing:InputPerMillion '1,5' is not a number between 0 and 1000000." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": "NaN" } } }""", $"Gatehouse:Providers:up:TimeoutSeconds 'NaN' is not a number {TimeoutRange}." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": "Infinity" } } }""", $"Gatehouse:Providers:up:TimeoutSeconds 'Infinity' is not a number {TimeoutRange}." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": "-Infinity" } } }""", $"Gatehouse:Providers:up:TimeoutSeconds '-Infinity' is not a number {TimeoutRange}." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": 1e400 } } }""", $"Gatehouse:Providers:up:TimeoutSeconds '1e400' is not a number {TimeoutRange}." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": "abc" } } }""", $"Gatehouse:Providers:up:TimeoutSeconds 'abc' is not a number {TimeoutRange}." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TokensPerMinute": 6000000000 } } }""", "Gatehouse:Providers:up:TokensPerMinute '6000000000' is not a whole number between 1 and 1000000000." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "CircuitBreaker": { "FailureThreshold": "x" } } } }""", "Gatehouse:Providers:up:CircuitBreaker:FailureThreshold 'x' is not a whole number between 1 and 1000000000." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "CircuitBreaker": { "BreakSeconds": "NaN" } } } }""", "Gatehouse:Providers:up:CircuitBreaker:BreakSeconds 'NaN' is not a number greater than 0 and at most 3600." },
        { """{ "RateLimits": { "MaxBatchShare": "Infinity" } }""", "Gatehouse:RateLimits:MaxBatchShare 'Infinity' is not a number greater than 0 and at most 1." },
        { """{ "Cache": { "MaxEntryBytes": 3000000000 } }""", "Gatehouse:Cache:MaxEntryBytes '3000000000' is not a whole number between 1 and 1073741824." },
        { """{ "Cache": { "Enabled": "yes" } }""", "Gatehouse:Cache:Enabled 'yes' is not true or false." },
        { """{ "AllowHttpImageUrls": "1" }""", "Gatehouse:AllowHttpImageUrls '1' is not true or false." },
        { """{ "MaxRequestBodyBytes": "4 MiB" }""", "Gatehouse:MaxRequestBodyBytes '4 MiB' is not a whole number between 1 and 1073741824." },
        { """{ "Cluster": { "SiloPort": "" } }""", "Gatehouse:Cluster:SiloPort '' is not a whole number between 1 and 65535." },
    };

    public static TheoryData<string, string> MisplacedOrUnknownKeys => new()
    {
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSecond": 5 } } }""", "Gatehouse:Providers:up:TimeoutSecond is not a known setting (did you mean TimeoutSeconds?)." },
        { """{ "Cach": { "Enabled": false } }""", "Gatehouse:Cach is not a known setting (did you mean Cache?)." },
        { """{ "Routing": { "Anything": 1 } }""", "Gatehouse:Routing:Anything is not a known setting (the settings here are MaxWaitMs)." },
        { """{ "Models": { "embed": { "Type": "Embedding", "Targets": [ { "Provider": "up", "Model": "e" } ] } } }""", "Gatehouse:Models:embed:Type 'Embedding' is not one of Chat, Embeddings." },
        { """{ "Cache": 5 }""", "Gatehouse:Cache must be a section of settings, not a single value." },
        { """{ "Providers": "up" }""", "Gatehouse:Providers must be a section of named entries, not a single value." },
        { """{ "Providers": { "up": {} } }""", "Gatehouse:Providers:up has no settings; give them or remove the entry." },
        { """{ "Providers": { "up": "Simulated" } }""", "Gatehouse:Providers:up has no settings; give them or remove the entry." },
        { """{ "Models": { "m": { "Targets": [ {}, { "Provider": "up", "Model": "x" } ] } } }""", "Gatehouse:Models:m:Targets:0 has no settings; give them or remove the entry." },
        { """{ "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x" } ], "Fallbacks": "other" } } }""", "Gatehouse:Models:m:Fallbacks must be a list, not a single value." },
        { """{ "Apps": { "a": { "Keys": [ "k", null ] } } }""", "Gatehouse:Apps:a:Keys:1 has no value; give one or remove it." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": null } } }""", $"Gatehouse:Providers:up:TimeoutSeconds has no value; give a number {TimeoutRange} or leave it out." },
        { """{ "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": { "Value": 5 } } } }""", $"Gatehouse:Providers:up:TimeoutSeconds must be a single value (a number {TimeoutRange}), not a section." },
        { """{ "Providers": { "up": { "Kind": { "Name": "Simulated" } } } }""", "Gatehouse:Providers:up:Kind must be a single value, not a section." },
    };

    [Theory]
    [MemberData(nameof(ValuesThatDoNotBind))]
    public void Check_ValueThatDoesNotBind_NamesKeyValueAndWhatIsAllowed(string section, string expected)
    {
        var check = Check(section);

        Assert.Equal([expected], check.Errors);
    }

    [Theory]
    [MemberData(nameof(MisplacedOrUnknownKeys))]
    public void Check_UnknownKeyOrWrongShape_NamesKey(string section, string expected)
    {
        var check = Check(section);

        Assert.Equal([expected], check.Errors);
    }

    [Theory]
    [InlineData("""{ "Apps": { "a": { "Keys": "gk-secret-value" } } }""")]
    [InlineData("""{ "Apps": { "a": { "Keys": [ { "Value": "gk-secret-value" } ] } } }""")]
    [InlineData("""{ "Providers": { "up": { "Kind": "OpenAI", "ApiKey": { "Key": "gk-secret-value" } } } }""")]
    [InlineData("""{ "Providers": { "up": { "Kind": "OpenAI", "ApiKye": "gk-secret-value" } } }""")]
    [InlineData("""{ "AdminKey": { "Key": "gk-secret-value" } }""")]
    [InlineData("""{ "AdminKy": "gk-secret-value" }""")]
    public void Check_MisplacedSecret_NamesKeyWithoutEchoingTheSecret(string section)
    {
        var error = Assert.Single(Check(section).Errors);

        Assert.DoesNotContain("secret", error);
        Assert.StartsWith("Gatehouse:", error);
    }

    [Theory]
    [InlineData("""{ "Providers": { "up": { "Kind": "Simulated", "RequestsPerMinute": " 60 ", "TimeoutSeconds": "1.5" } } }""")]
    [InlineData("""{ "Providers": { "up": { "Kind": "Simulated", "RequestsPerMinute": "" } } }""")]
    [InlineData("""{ "Providers": { "up": { "Kind": "Simulated", "RequestsPerMinute": null, "ApiKey": null } } }""")]
    [InlineData("""{ "Apps": { "a": { "Keys": [ "k" ], "Priority": "high", "BudgetUsdPerDay": "2.5e1", "CacheAllRequests": "True" } } }""")]
    [InlineData("""{ "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x", "Weight": 2 } ], "Fallbacks": [], "Pricing": null, "HedgeAfterMs": null } } }""")]
    [InlineData("""{ "cache": { "ttlseconds": 5 }, "CLUSTER": { "siloport": 11112 } }""")]
    [InlineData("""{ "Providers": {}, "Models": {}, "Apps": {} }""")]
    public void Check_ValueTheBinderConverts_IsAccepted(string section)
    {
        var configuration = Configuration(section);

        Assert.Empty(ConfigurationSchemaChecker.Check(configuration.GetSection("Gatehouse"), typeof(GatehouseOptions)).Errors);
        // What the check accepts, the binder takes whole: no exception, and no entry dropped.
        var bound = configuration.GetSection("Gatehouse").Get<GatehouseOptions>() ?? new GatehouseOptions();
        Assert.Equal(configuration.GetSection("Gatehouse:Providers").GetChildren().Count(), bound.Providers.Count);
        Assert.Equal(configuration.GetSection("Gatehouse:Models").GetChildren().Count(), bound.Models.Count);
        Assert.Equal(configuration.GetSection("Gatehouse:Apps").GetChildren().Count(), bound.Apps.Count);
    }

    [Fact]
    public void Check_ReadmeExample_HasNoErrors()
    {
        const string example = """
        {
          "Providers": {
            "openai":    { "Kind": "OpenAI", "ApiKey": "env:OPENAI_API_KEY", "TimeoutSeconds": 60 },
            "anthropic": { "Kind": "Anthropic", "ApiKey": "env:ANTHROPIC_API_KEY", "DefaultMaxTokens": 4096 },
            "ollama":    { "Kind": "Ollama", "BaseUrl": "http://127.0.0.1:11434" },
            "sim":       { "Kind": "Simulated", "LatencyMs": 20, "FailureRate": 0.0, "StreamChunkDelayMs": 0,
                           "RequestsPerMinute": 500, "Burst": 50, "TokensPerMinute": 200000, "MaxConcurrency": 64,
                           "Retries": 1, "RetryDelayMs": 200, "CircuitBreaker": { "FailureThreshold": 5, "BreakSeconds": 10 } }
          },
          "Models": {
            "gpt-4o": { "Strategy": "RoundRobin", "Targets": [ { "Provider": "openai", "Model": "gpt-4o", "Weight": 1 } ],
                        "Fallbacks": [ "claude" ], "Pricing": { "InputPerMillion": 2.5, "OutputPerMillion": 10 }, "HedgeAfterMs": 2000 },
            "claude": { "Targets": [ { "Provider": "anthropic", "Model": "claude-sonnet-4-5" } ] }
          },
          "Apps": {
            "billing": { "Keys": [ "env:BILLING_APP_KEY" ], "RequestsPerMinute": 600, "TokensPerMinute": 100000,
                         "BudgetUsdPerDay": 50, "Priority": "High", "Models": [ "gpt-4o", "claude" ] }
          },
          "Cache": { "Enabled": true, "TtlSeconds": 3600, "MaxEntryBytes": 1048576 },
          "RateLimits": { "DefaultMaxWaitMs": 1000, "MaxWaitCapMs": 30000, "MaxBatchShare": 0.25, "ConcurrencyLeaseSeconds": 10 },
          "Routing": { "MaxWaitMs": 5000 },
          "AdminKey": "env:GATEHOUSE_ADMIN_KEY",
          "MaxRequestBodyBytes": 4194304,
          "Cluster": { "Kind": "Localhost", "SiloPort": 11111, "GatewayPort": 30000 },
          "Storage": { "Kind": "Memory" }
        }
        """;

        Assert.Empty(Check(example).Errors);
    }

    [Fact]
    public void Check_ManyProblems_ReportsEachOnceAndRejectsOnlyTheBadKeys()
    {
        var check = Check("""
        {
          "Providers": { "up": { "Kind": "Simulated", "TimeoutSeconds": "abc", "LatencyMs": 5 } },
          "Apps": { "billing": { "Keys": [ "k" ], "Priority": "Urgent", "TokensPerMinute": 10 } },
          "Cache": { "TtlSecond": 5 }
        }
        """);

        Assert.Equal(
        [
            "Gatehouse:Apps:billing:Priority 'Urgent' is not one of Low, Normal, High.",
            "Gatehouse:Cache:TtlSecond is not a known setting (did you mean TtlSeconds?).",
            $"Gatehouse:Providers:up:TimeoutSeconds 'abc' is not a number {TimeoutRange}.",
        ], check.Errors);
        Assert.Equal(["Gatehouse:Apps:billing:Priority", "Gatehouse:Cache:TtlSecond", "Gatehouse:Providers:up:TimeoutSeconds"], check.RejectedPaths);
    }

    [Fact]
    public void Check_LongValue_IsShortenedInTheMessage()
    {
        var value = new string('9', 100);

        var error = Assert.Single(Check($$"""{ "Cache": { "TtlSeconds": "{{value}}" } }""").Errors);

        Assert.Equal($"Gatehouse:Cache:TtlSeconds '{new string('9', 64)}…' is not a whole number between 1 and 2592000.", error);
    }

    [Fact]
    public void Check_ValueWithALineBreak_StaysOnOneLine()
    {
        var error = Assert.Single(Check("""{ "Cache": { "TtlSeconds": "5\n  - forged" } }""").Errors);

        Assert.Equal("Gatehouse:Cache:TtlSeconds '5\\u000a  - forged' is not a whole number between 1 and 2592000.", error);
    }

    [Fact]
    public void Check_IgnoredKey_IsNotChecked()
    {
        var configuration = Configuration("""{ "Client": { "Anything": "x" }, "Bogus": 1 }""");

        var check = ConfigurationSchemaChecker.Check(configuration.GetSection("Gatehouse"), typeof(GatehouseOptions), new HashSet<string>(["client"], StringComparer.OrdinalIgnoreCase));

        Assert.Equal(["Gatehouse:Bogus"], check.RejectedPaths);
    }

    [Fact]
    public void Check_EnvironmentVariableOverride_IsCheckedUnderItsFullKey()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(Json("""{ "Gatehouse": { "Apps": { "billing": { "Keys": [ "k" ], "TokensPerMinute": 100 } } } }"""))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Gatehouse:Apps:billing:TokensPerMinute"] = "lots" })
            .Build();

        var check = ConfigurationSchemaChecker.Check(configuration.GetSection("Gatehouse"), typeof(GatehouseOptions));

        Assert.Equal(["Gatehouse:Apps:billing:TokensPerMinute 'lots' is not a whole number between 1 and 1000000000."], check.Errors);
    }

    private static ConfigurationCheck Check(string section) =>
        ConfigurationSchemaChecker.Check(Configuration(section).GetSection("Gatehouse"), typeof(GatehouseOptions));

    private static IConfigurationRoot Configuration(string section) =>
        new ConfigurationBuilder().AddJsonStream(Json($$"""{ "Gatehouse": {{section}} }""")).Build();

    private static MemoryStream Json(string json) => new(Encoding.UTF8.GetBytes(json));
}
