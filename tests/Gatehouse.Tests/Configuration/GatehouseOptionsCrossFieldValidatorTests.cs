using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Gatehouse.Routing;
using Gatehouse.Tests.Support;
using Xunit;

namespace Gatehouse.Tests.Configuration;

public sealed class GatehouseOptionsCrossFieldValidatorTests
{
    private readonly GatehouseOptionsCrossFieldValidator _validator = new(
    [
        new SimulatedChatGatewayFactory(TimeProvider.System),
        new KindOnlyChatGatewayFactory(ProviderKinds.OpenAI),
        new KindOnlyChatGatewayFactory(ProviderKinds.OpenAICompatible),
    ]);

    [Fact]
    public void Validate_ValidOptions_Succeeds()
    {
        var result = _validator.Validate(null, ValidOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Empty(_validator.Collect(ValidOptions()));
    }

    [Fact]
    public void Collect_AdoNetClusterOnPostgreSql_IsValid()
    {
        var options = ValidOptions();
        options.Cluster.Kind = ClusterKind.AdoNet;
        options.Cluster.ConnectionString = "Host=127.0.0.1;Port=5432;Username=gatehouse;Password=not-a-real-password;Database=gatehouse";
        options.Cluster.AdvertisedAddress = "silo1";
        options.Storage.Kind = StorageKind.PostgreSql;

        Assert.Empty(_validator.Collect(options));
    }

    public static TheoryData<string, Action<GatehouseOptions>, string> ClusterMistakes => new()
    {
        { "AdoNet without a connection string", o => { o.Cluster.Kind = ClusterKind.AdoNet; o.Storage.Kind = StorageKind.PostgreSql; },
            "Gatehouse:Cluster:ConnectionString is required for Cluster:Kind AdoNet (use env:NAME to read it from the environment)." },
        { "AdoNet with memory storage", o => { o.Cluster.Kind = ClusterKind.AdoNet; o.Cluster.ConnectionString = "Host=db"; },
            "Gatehouse:Storage:Kind must be PostgreSql when Gatehouse:Cluster:Kind is AdoNet (grain state kept in one silo's memory is lost with that silo)." },
        { "AdoNet with a primary silo", o => { o.Cluster.Kind = ClusterKind.AdoNet; o.Cluster.ConnectionString = "Host=db"; o.Storage.Kind = StorageKind.PostgreSql; o.Cluster.PrimarySiloPort = 11111; },
            "Gatehouse:Cluster:PrimarySiloPort applies to Cluster:Kind Localhost only; AdoNet silos find each other in the membership table." },
        { "PostgreSql storage without any connection string", o => o.Storage.Kind = StorageKind.PostgreSql,
            "Gatehouse:Storage:ConnectionString is required for Storage:Kind PostgreSql (use env:NAME to read it from the environment)." },
        { "connection string from an unset variable", o => { o.Storage.Kind = StorageKind.PostgreSql; o.Storage.ConnectionString = "env:GATEHOUSE_TEST_UNSET_DATABASE_URL"; },
            "Gatehouse:Storage:ConnectionString refers to an environment variable that is not set." },
        { "connection string that does not parse", o => { o.Storage.Kind = StorageKind.PostgreSql; o.Storage.ConnectionString = "Host=db;Password=hunter2-FAKE;Bogus Keyword=1"; },
            "Gatehouse:Storage:ConnectionString is not a valid PostgreSQL connection string (Host=...;Port=...;Username=...;Password=...;Database=...)." },
        { "advertised host name on localhost clustering", o => o.Cluster.AdvertisedAddress = "silo1",
            "Gatehouse:Cluster:AdvertisedAddress must be 127.0.0.1 for Cluster:Kind Localhost; use AdoNet to cluster across machines." },
        { "advertised address that is not an address", o => o.Cluster.AdvertisedAddress = "not an address",
            "Gatehouse:Cluster:AdvertisedAddress 'not an address' is neither an IP address nor a host name." },
    };

    [Theory]
    [MemberData(nameof(ClusterMistakes))]
    public void Collect_ClusterOrStorageMistake_NamesKeyAndNeverTheSecret(string name, Action<GatehouseOptions> change, string expected)
    {
        var options = ValidOptions();
        change(options);

        var error = Assert.Single(_validator.Collect(options));

        Assert.True(expected == error, $"{name}: {error}");
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Collect_CacheMaxEntryBytesNotPositive_NamesKey()
    {
        var options = ValidOptions();
        options.Cache.MaxEntryBytes = 0;

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Cache:MaxEntryBytes must be a whole number between 1 and 1073741824; it is 0.", error);
    }

    [Fact]
    public void Collect_BlankCacheNamespace_NamesAppKey()
    {
        var options = ValidOptions();
        options.Apps["web"].CacheNamespace = " ";

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Apps:web:CacheNamespace must not be blank (leave it out to use the app id).", error);
    }

    [Fact]
    public void Collect_InvalidRateLimits_NamesEveryKey()
    {
        var options = ValidOptions();
        options.RateLimits.DefaultMaxWaitMs = -1;
        options.RateLimits.MaxBatchShare = 0;
        options.RateLimits.LeaseSafetyMarginMs = 500;
        options.RateLimits.DefaultMaxTokensEstimate = 0;

        var errors = _validator.Collect(options);

        Assert.Equal(
            [
                "Gatehouse:RateLimits:DefaultMaxWaitMs must be a whole number between 0 and 600000; it is -1.",
                "Gatehouse:RateLimits:LeaseSafetyMarginMs must be a whole number between 0 and 499 (a lease lasts at most until its one-second slot ends); it is 500.",
                "Gatehouse:RateLimits:MaxBatchShare must be a number greater than 0 and at most 1; it is 0.",
                "Gatehouse:RateLimits:DefaultMaxTokensEstimate must be a whole number between 1 and 10000000; it is 0.",
            ],
            errors);
    }

    [Fact]
    public void Collect_TargetNamesUnknownProvider_NamesTargetKey()
    {
        var options = ValidOptions();
        options.Models["gpt"].Targets[0].Provider = "nope";

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:gpt:Targets:0:Provider 'nope' is not a configured provider.", error);
    }

    [Fact]
    public void Collect_TargetWithoutProvider_NamesTargetKey()
    {
        var options = ValidOptions();
        options.Models["gpt"].Targets[1].Provider = "";

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:gpt:Targets:1:Provider is required.", error);
    }

    [Fact]
    public void Collect_UnknownProviderKind_NamesKindAndListsKnownKinds()
    {
        var options = ValidOptions();
        options.Providers["sim"].Kind = "Bogus";

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Providers:sim:Kind 'Bogus' is not a known provider kind (one of OpenAI, OpenAICompatible, Simulated).", error);
    }

    [Fact]
    public void Collect_OpenAIWithoutApiKey_NamesApiKey()
    {
        var options = ValidOptions();
        options.Providers["openai"].ApiKey = null;

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Providers:openai:ApiKey is required for kind OpenAI (use env:NAME to read it from the environment).", error);
    }

    [Fact]
    public void Collect_GeminiWithoutApiKey_NamesApiKey_AndWithOneNeedsNoBaseUrl()
    {
        var validator = new GatehouseOptionsCrossFieldValidator([new KindOnlyChatGatewayFactory(ProviderKinds.Gemini)]);
        var options = new GatehouseOptions
        {
            Providers = { ["gemini"] = new ProviderOptions { Kind = ProviderKinds.Gemini } },
            Models = { ["flash"] = new ModelOptions { Targets = [new TargetOptions { Provider = "gemini", Model = "gemini-2.5-flash" }] } },
            Apps = { ["web"] = new AppOptions { Keys = ["web-key"] } },
        };

        var error = Assert.Single(validator.Collect(options));
        options.Providers["gemini"].ApiKey = "gm-FAKE-validator-key";

        Assert.Equal("Gatehouse:Providers:gemini:ApiKey is required for kind Gemini (use env:NAME to read it from the environment).", error);
        Assert.Empty(validator.Collect(options));
    }

    [Fact]
    public void Collect_ApiKeyNamesUnsetEnvironmentVariable_NamesApiKeyAndVariable()
    {
        var variable = $"GATEHOUSE_TEST_UNSET_{Guid.NewGuid():N}";
        var options = ValidOptions();
        options.Providers["openai"].ApiKey = $"env:{variable}";

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal($"Gatehouse:Providers:openai:ApiKey refers to environment variable '{variable}', which is not set.", error);
    }

    [Fact]
    public void Collect_ApiKeyNamesSetEnvironmentVariable_Succeeds()
    {
        var variable = $"GATEHOUSE_TEST_SET_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "sk-from-env");
        try
        {
            var options = ValidOptions();
            options.Providers["openai"].ApiKey = $"env:{variable}";

            Assert.Empty(_validator.Collect(options));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData("https://user:sk-FAKE-in-url@api.example.com/v1")]
    [InlineData("ftp://user:sk-FAKE-in-url@api.example.com/v1")]
    public void Collect_BaseUrlWithCredentials_RefusedWithoutShowingThem(string baseUrl)
    {
        var options = ValidOptions();
        options.Providers["local"].BaseUrl = baseUrl;

        var error = Assert.Single(_validator.Collect(options));

        Assert.StartsWith("Gatehouse:Providers:local:BaseUrl ", error);
        Assert.DoesNotContain("sk-FAKE-in-url", error);
    }

    [Fact]
    public void Collect_OpenAICompatibleWithoutBaseUrl_NamesBaseUrl()
    {
        var options = ValidOptions();
        options.Providers["local"].BaseUrl = null;

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Providers:local:BaseUrl is required for kind OpenAICompatible.", error);
    }

    [Theory]
    [InlineData("localhost:8000/v1")]
    [InlineData("/v1")]
    [InlineData("ftp://example.com/v1")]
    [InlineData("not a url")]
    public void Collect_BaseUrlNotHttp_NamesBaseUrl(string baseUrl)
    {
        var options = ValidOptions();
        options.Providers["local"].BaseUrl = baseUrl;

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal($"Gatehouse:Providers:local:BaseUrl '{baseUrl}' is not an absolute http or https URL.", error);
    }

    [Fact]
    public void Collect_FallbackToUnknownAlias_NamesFallbackKey()
    {
        var options = ValidOptions();
        options.Models["gpt"].Fallbacks.Add("nope");

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:gpt:Fallbacks:1 'nope' is not a configured model alias.", error);
    }

    [Fact]
    public void Collect_AliasFallsBackToItself_NamesFallbackKey()
    {
        var options = ValidOptions();
        options.Models["fast"].Fallbacks.Add("fast");

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:fast:Fallbacks:0 must not name the alias itself.", error);
    }

    [Fact]
    public void Collect_AppModelNotConfigured_NamesAppModelKey()
    {
        var options = ValidOptions();
        options.Apps["web"].Models.Add("nope");

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Apps:web:Models:1 'nope' is not a configured model alias.", error);
    }

    [Fact]
    public void Collect_SameKeyInTwoApps_NamesSecondKeyAndFirstApp()
    {
        var options = ValidOptions();
        options.Apps["batch"].Keys.Add("web-key");

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Apps:batch:Keys:1 is also a key of app 'web'.", error);
    }

    [Fact]
    public void Collect_SameKeyPlainAndAsUppercaseHash_DetectsDuplicate()
    {
        var options = ValidOptions();
        options.Apps["batch"].Keys.Add("SHA256:" + AppKeyHasher.Hash("web-key").ToUpperInvariant());

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Apps:batch:Keys:1 is also a key of app 'web'.", error);
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00")]
    public void Collect_MalformedSha256Key_NamesKey(string key)
    {
        var options = ValidOptions();
        options.Apps["web"].Keys[0] = key;

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Apps:web:Keys:0 must be 'sha256:' followed by 64 hex digits.", error);
    }

    [Fact]
    public void Collect_AppWithoutKeys_NamesKeys()
    {
        var options = ValidOptions();
        options.Apps["web"].Keys.Clear();

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Apps:web:Keys must hold at least one key.", error);
    }

    [Fact]
    public void Collect_NonPositiveLimits_NamesEachLimit()
    {
        var options = ValidOptions();
        options.Providers["sim"].RequestsPerMinute = 0;
        options.Providers["sim"].TokensPerMinute = -1;
        options.Providers["sim"].MaxConcurrency = 0;
        options.Providers["sim"].DefaultMaxTokens = 0;
        options.Providers["sim"].TimeoutSeconds = 0;
        options.Models["gpt"].Targets[0].Weight = 0;
        options.Apps["web"].RequestsPerMinute = 0;
        options.Apps["web"].TokensPerMinute = -5;
        options.Cache.TtlSeconds = 0;
        options.MaxRequestBodyBytes = 0;

        var errors = _validator.Collect(options);

        Assert.Equal(
        [
            "Gatehouse:Providers:sim:RequestsPerMinute must be a whole number between 1 and 10000000; it is 0.",
            "Gatehouse:Providers:sim:TokensPerMinute must be a whole number between 1 and 1000000000; it is -1.",
            "Gatehouse:Providers:sim:MaxConcurrency must be a whole number between 1 and 100000; it is 0.",
            "Gatehouse:Providers:sim:TimeoutSeconds must be a number greater than 0 and at most 600 (an upstream call must end within the ten-minute grain call it runs in); it is 0.",
            "Gatehouse:Providers:sim:DefaultMaxTokens must be a whole number between 1 and 1000000; it is 0.",
            "Gatehouse:Models:gpt:Targets:0:Weight must be a number greater than 0 and at most 1000000; it is 0.",
            "Gatehouse:Apps:web:RequestsPerMinute must be a whole number between 1 and 10000000; it is 0.",
            "Gatehouse:Apps:web:TokensPerMinute must be a whole number between 1 and 1000000000; it is -5.",
            "Gatehouse:Cache:TtlSeconds must be a whole number between 1 and 2592000; it is 0.",
            "Gatehouse:MaxRequestBodyBytes must be a whole number between 1 and 1073741824; it is 0.",
        ], errors);
    }

    [Fact]
    public void Collect_UnknownStrategy_NamesStrategyAndListsKnownOnes()
    {
        var options = ValidOptions();
        options.Models["fast"].Strategy = "Fastest";

        var error = Assert.Single(_validator.Collect(options));

        Assert.Equal("Gatehouse:Models:fast:Strategy 'Fastest' is not a known strategy (one of RoundRobin, Weighted, LeastBusy, Latency).", error);
    }

    [Fact]
    public void Collect_StrategyInOtherCase_Succeeds()
    {
        var options = ValidOptions();
        options.Models["fast"].Strategy = "weighted";

        Assert.Empty(_validator.Collect(options));
    }

    [Theory]
    [InlineData("LeastBusy")]
    [InlineData("Latency")]
    public void Collect_NewStrategies_Succeed(string strategy)
    {
        var options = ValidOptions();
        options.Models["fast"].Strategy = strategy;

        Assert.Empty(_validator.Collect(options));
    }

    [Fact]
    public void Collect_ContextWindowFallbacks_ChecksEachAlias()
    {
        var options = ValidOptions();
        options.Models["gpt"].ContextWindowFallbacks.AddRange(["fast", "missing", "gpt"]);

        Assert.Equal(
        [
            "Gatehouse:Models:gpt:ContextWindowFallbacks:1 'missing' is not a configured model alias.",
            "Gatehouse:Models:gpt:ContextWindowFallbacks:2 must not name the alias itself.",
        ], _validator.Collect(options));
    }

    [Fact]
    public void Collect_BadResilienceSettings_NamesEachKey()
    {
        var options = ValidOptions();
        options.Providers["sim"].Retries = -1;
        options.Providers["sim"].RetryDelayMs = -5;
        options.Providers["sim"].CircuitBreaker.FailureThreshold = 0;
        options.Providers["sim"].CircuitBreaker.BreakSeconds = 0;
        options.Routing.MaxWaitMs = -1;
        options.Models["gpt"].HedgeAfterMs = 0;

        Assert.Equal(
        [
            "Gatehouse:Providers:sim:Retries must be a whole number between 0 and 10; it is -1.",
            "Gatehouse:Providers:sim:RetryDelayMs must be a whole number between 0 and 600000; it is -5.",
            "Gatehouse:Providers:sim:CircuitBreaker:FailureThreshold must be a whole number between 1 and 1000000000; it is 0.",
            "Gatehouse:Providers:sim:CircuitBreaker:BreakSeconds must be a number greater than 0 and at most 3600; it is 0.",
            "Gatehouse:Models:gpt:HedgeAfterMs must be a whole number between 1 and 600000; it is 0.",
            "Gatehouse:Routing:MaxWaitMs must be a whole number between 0 and 600000; it is -1.",
        ], _validator.Collect(options));
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOneAtOnce()
    {
        var variable = $"GATEHOUSE_TEST_UNSET_{Guid.NewGuid():N}";
        var options = ValidOptions();
        options.Providers["sim"].Kind = "Bogus";
        options.Providers["openai"].ApiKey = $"env:{variable}";
        options.Models["gpt"].Targets[0].Provider = "nope";
        options.Models["gpt"].Fallbacks.Add("missing");
        options.Models["fast"].Fallbacks.Add("fast");
        options.Models["fast"].Strategy = "Fastest";
        options.Apps["web"].Models.Add("nope");
        options.Apps["web"].RequestsPerMinute = 0;
        options.Apps["batch"].Keys.Add("web-key");
        options.Apps["batch"].Keys.Add("sha256:xyz");

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(
        [
            "Gatehouse:Apps:web:RequestsPerMinute must be a whole number between 1 and 10000000; it is 0.",
            "Gatehouse:Providers:sim:Kind 'Bogus' is not a known provider kind (one of OpenAI, OpenAICompatible, Simulated).",
            $"Gatehouse:Providers:openai:ApiKey refers to environment variable '{variable}', which is not set.",
            "Gatehouse:Models:gpt:Targets:0:Provider 'nope' is not a configured provider.",
            "Gatehouse:Models:gpt:Fallbacks:1 'missing' is not a configured model alias.",
            "Gatehouse:Models:fast:Strategy 'Fastest' is not a known strategy (one of RoundRobin, Weighted, LeastBusy, Latency).",
            "Gatehouse:Models:fast:Fallbacks:0 must not name the alias itself.",
            "Gatehouse:Apps:web:Models:1 'nope' is not a configured model alias.",
            "Gatehouse:Apps:batch:Keys:1 is also a key of app 'web'.",
            "Gatehouse:Apps:batch:Keys:2 must be 'sha256:' followed by 64 hex digits.",
        ], result.Failures!);
    }

    private static GatehouseOptions ValidOptions() => new()
    {
        Providers =
        {
            ["sim"] = new ProviderOptions { Kind = ProviderKinds.Simulated },
            ["openai"] = new ProviderOptions { Kind = ProviderKinds.OpenAI, ApiKey = "sk-test" },
            ["local"] = new ProviderOptions { Kind = ProviderKinds.OpenAICompatible, BaseUrl = "http://localhost:8000/v1" },
        },
        Models =
        {
            ["gpt"] = new ModelOptions
            {
                Targets =
                [
                    new TargetOptions { Provider = "openai", Model = "gpt-4o-mini" },
                    new TargetOptions { Provider = "local", Model = "llama3" },
                ],
                Fallbacks = ["fast"],
            },
            ["fast"] = new ModelOptions
            {
                Strategy = "Weighted",
                Targets = [new TargetOptions { Provider = "sim", Model = "sim-fast", Weight = 2 }],
            },
        },
        Apps =
        {
            ["web"] = new AppOptions { Keys = ["web-key"], Models = ["gpt"], RequestsPerMinute = 60 },
            ["batch"] = new AppOptions { Keys = ["sha256:" + AppKeyHasher.Hash("batch-key")] },
        },
    };
}
