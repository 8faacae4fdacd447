using System.Net;
using System.Text;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// The real silo given a value that does not bind or is out of range: it exits with code 1 and one plain line naming
/// the key, the value and what is allowed — no stack trace, nothing silently dropped, no misleading consequence.
/// </summary>
public sealed class ConfigurationStartupTests
{
    private const int ConcurrentStarts = 4;
    private const string TimeoutRange = "greater than 0 and at most 600 (an upstream call must end within the ten-minute grain call it runs in)";

    private static readonly BadValue[] BadValues =
    [
        new("app TokensPerMinute too large for a number", Config(app: """, "TokensPerMinute": 6000000000"""), "Gatehouse:Apps:billing:TokensPerMinute '6000000000' is not a whole number between 1 and 1000000000."),
        new("app TokensPerMinute not a number", Config(app: """, "TokensPerMinute": "abc" """), "Gatehouse:Apps:billing:TokensPerMinute 'abc' is not a whole number between 1 and 1000000000."),
        new("app TokensPerMinute fractional", Config(app: """, "TokensPerMinute": 0.5"""), "Gatehouse:Apps:billing:TokensPerMinute '0.5' is not a whole number between 1 and 1000000000."),
        new("app Priority unknown", Config(app: """, "Priority": "Urgent" """), "Gatehouse:Apps:billing:Priority 'Urgent' is not one of Low, Normal, High."),
        new("alias HedgeAfterMs too large for a number", Config(model: """, "HedgeAfterMs": 99999999999"""), "Gatehouse:Models:m:HedgeAfterMs '99999999999' is not a whole number between 1 and 600000."),
        new("target Weight not a number", Config(target: """, "Weight": "heavy" """), "Gatehouse:Models:m:Targets:0:Weight 'heavy' is not a number greater than 0 and at most 1000000."),
        new("provider TimeoutSeconds NaN", Config(provider: """, "TimeoutSeconds": "NaN" """), $"Gatehouse:Providers:up:TimeoutSeconds 'NaN' is not a number {TimeoutRange}."),
        new("provider TimeoutSeconds not a number", Config(provider: """, "TimeoutSeconds": "abc" """), $"Gatehouse:Providers:up:TimeoutSeconds 'abc' is not a number {TimeoutRange}."),
        new("provider TimeoutSeconds 1e300", Config(provider: """, "TimeoutSeconds": 1e300"""), $"Gatehouse:Providers:up:TimeoutSeconds must be a number {TimeoutRange}; it is 1E+300."),
        new("provider TokensPerMinute too large for a number", Config(provider: """, "TokensPerMinute": 6000000000"""), "Gatehouse:Providers:up:TokensPerMinute '6000000000' is not a whole number between 1 and 1000000000."),
        new("provider FailureThreshold not a number", Config(provider: """, "CircuitBreaker": { "FailureThreshold": "x" }"""), "Gatehouse:Providers:up:CircuitBreaker:FailureThreshold 'x' is not a whole number between 1 and 1000000000."),
        new("provider setting misspelt", Config(provider: """, "TimeoutSecond": 5"""), "Gatehouse:Providers:up:TimeoutSecond is not a known setting (did you mean TimeoutSeconds?)."),
        new("provider ApiKey given as a section", Config(provider: """, "ApiKey": { "Key": "sk-never-printed" }"""), "Gatehouse:Providers:up:ApiKey must be a single value, not a section.", MustNotContain: "sk-never-printed"),
        new("Cache MaxEntryBytes too large for a number", Config(root: """, "Cache": { "MaxEntryBytes": 3000000000 }"""), "Gatehouse:Cache:MaxEntryBytes '3000000000' is not a whole number between 1 and 1073741824."),
        new("MaxRequestBodyBytes negative", Config(root: """, "MaxRequestBodyBytes": -1"""), "Gatehouse:MaxRequestBodyBytes must be a whole number between 1 and 1073741824; it is -1."),
        new("SiloPort above 65535 from the environment", Config(), "Gatehouse:Cluster:SiloPort must be a whole number between 1 and 65535; it is 70000.",
            Environment: new Dictionary<string, string> { ["Gatehouse__Cluster__SiloPort"] = "70000" }),
    ];

    [Fact]
    public async Task Start_ValueThatDoesNotBindOrIsOutOfRange_ExitsWithOneLineNamingKeyAndValue()
    {
        // The silos exit before Orleans starts, so a few at a time keep the test short without starving the machine.
        using var gate = new SemaphoreSlim(ConcurrentStarts);
        var outcomes = await Task.WhenAll(BadValues.Select(async bad =>
        {
            await gate.WaitAsync();
            try
            {
                return (Bad: bad, Exit: await SiloProcess.StartExpectingExitAsync(bad.Config, bad.Environment));
            }
            finally
            {
                gate.Release();
            }
        }));

        var wrong = outcomes.Where(o => !IsPlainRefusal(o.Exit, o.Bad)).Select(o => $"{o.Bad.Name}: exit code {o.Exit.ExitCode}\n{o.Exit.Output}").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {BadValues.Length} bad values were not refused plainly:\n\n{string.Join("\n\n", wrong)}");
    }

    [Fact]
    public async Task Start_EnvironmentVariableOverridesTheEmbeddedDefault_StartsAndApplies()
    {
        await using var silo = await SiloProcess.StartAsync(configJson: null, new Dictionary<string, string>
        {
            ["OPENAI_API_KEY"] = "",
            ["ANTHROPIC_API_KEY"] = "",
            ["Gatehouse__MaxRequestBodyBytes"] = "2048",
        });
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "gk-local-dev");

        using var small = await http.PostAsync(silo.BaseUrl + "/v1/chat/completions", Body("ping"));
        using var large = await http.PostAsync(silo.BaseUrl + "/v1/chat/completions", Body(new string('x', 4096)));

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
    }

    [Fact]
    public async Task Start_EveryNumberAtTheEdgeOfItsRange_StartsAndServes()
    {
        // Valid but extreme values must not overflow anything at run time (TimeSpan conversions, token sums, batch shares).
        const string config = """
        { "Gatehouse": {
            "Providers": {
              "top": { "Kind": "Simulated", "LatencyMs": 0, "RequestsPerMinute": 10000000, "Burst": 10000000, "TokensPerMinute": 1000000000,
                       "MaxConcurrency": 100000, "DefaultMaxTokensEstimate": 10000000, "TimeoutSeconds": 600, "Retries": 10, "RetryDelayMs": 600000,
                       "CircuitBreaker": { "FailureThreshold": 10000, "BreakSeconds": 3600 }, "MaxResponseBytes": 1073741824 },
              "low": { "Kind": "Simulated", "LatencyMs": 0, "RequestsPerMinute": 1, "Burst": 1, "TokensPerMinute": 1000000000, "MaxConcurrency": 1,
                       "DefaultMaxTokensEstimate": 1, "TimeoutSeconds": 0.5, "RetryDelayMs": 0, "CircuitBreaker": { "FailureThreshold": 1, "BreakSeconds": 0.001 },
                       "MaxResponseBytes": 1024 }
            },
            "Models": {
              "top": { "Strategy": "Weighted", "Targets": [ { "Provider": "top", "Model": "t", "Weight": 1000000 }, { "Provider": "low", "Model": "l", "Weight": 0.000001 } ],
                       "HedgeAfterMs": 600000, "Pricing": { "InputPerMillion": 1000000, "OutputPerMillion": 1000000 } },
              "low": { "Targets": [ { "Provider": "low", "Model": "l" } ], "HedgeAfterMs": 1, "Pricing": { "InputPerMillion": 0, "OutputPerMillion": 0 } }
            },
            "Apps": { "edge": { "Keys": [ "gk-edge" ], "RequestsPerMinute": 10000000, "Burst": 10000000, "TokensPerMinute": 1000000000,
                                "BudgetUsdPerDay": 1000000000, "Priority": "High", "DefaultMaxTokensEstimate": 10000000 } },
            "Cache": { "TtlSeconds": 2592000, "MaxEntryBytes": 1073741824 },
            "RateLimits": { "DefaultMaxWaitMs": 600000, "MaxWaitCapMs": 600000, "LeaseSafetyMarginMs": 499, "MaxBatchShare": 1,
                            "DefaultMaxTokensEstimate": 10000000, "ImageTokenEstimate": 1000000, "ConcurrencyLeaseSeconds": 3600 },
            "Routing": { "MaxWaitMs": 600000 },
            "MaxRequestBodyBytes": 1073741824
        } }
        """;

        await using var silo = await SiloProcess.StartAsync(config);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "gk-edge");

        foreach (var model in new[] { "top", "low" })
        {
            using var response = await http.PostAsync(silo.BaseUrl + "/v1/chat/completions", Body("ping", model));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{silo.Output}");
        }

        Assert.DoesNotContain("   at ", silo.Output);
    }

    private static bool IsPlainRefusal(SiloExitedException exit, BadValue bad)
    {
        var lines = exit.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var failures = lines.Where(l => l.StartsWith("- ", StringComparison.Ordinal)).Select(l => l[2..]).ToList();
        return exit.ExitCode == 1
            && lines.Contains("Gatehouse cannot start: the configuration is invalid.")
            && failures.SequenceEqual([bad.Expected])
            && !exit.Output.Contains("   at ", StringComparison.Ordinal)
            && (bad.MustNotContain is null || !exit.Output.Contains(bad.MustNotContain, StringComparison.Ordinal));
    }

    private static StringContent Body(string text, string model = "sim") =>
        new($$"""{ "model": "{{model}}", "messages": [ { "role": "user", "content": "{{text}}" } ] }""", Encoding.UTF8, "application/json");

    /// <summary>A valid configuration (a provider, an alias on it, an app using it) with one setting added somewhere.</summary>
    private static string Config(string provider = "", string target = "", string model = "", string app = "", string root = "") => $$"""
        { "Gatehouse": {
            "Providers": { "up": { "Kind": "Simulated"{{provider}} } },
            "Models": { "m": { "Targets": [ { "Provider": "up", "Model": "x"{{target}} } ]{{model}} } },
            "Apps": { "billing": { "Keys": [ "gk-billing-test" ], "Models": [ "m" ]{{app}} } }{{root}}
        } }
        """;

    private sealed record BadValue(string Name, string Config, string Expected, IReadOnlyDictionary<string, string>? Environment = null, string? MustNotContain = null);
}
