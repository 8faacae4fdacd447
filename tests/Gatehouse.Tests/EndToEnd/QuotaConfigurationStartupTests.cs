namespace Gatehouse.Tests.EndToEnd;

/// <summary>A bad <c>Burst</c> stops the silo at start (exit code 1) with a message naming the key, before anything runs.</summary>
public sealed class QuotaConfigurationStartupTests
{
    public static TheoryData<string, string, string> BadBursts => new()
    {
        // name, the provider or app entry (JSON), the message expected in the output
        { "app Burst 0", """ "Apps": { "x": { "Keys": [ "k" ], "RequestsPerMinute": 5, "Burst": 0 } } """, "Gatehouse:Apps:x:Burst must be a whole number between 1 and 10000000; it is 0." },
        { "app Burst above RequestsPerMinute", """ "Apps": { "x": { "Keys": [ "k" ], "RequestsPerMinute": 5, "Burst": 6 } } """, "Gatehouse:Apps:x:Burst must be between 1 and Gatehouse:Apps:x:RequestsPerMinute (5); it is 6." },
        { "app Burst without RequestsPerMinute", """ "Apps": { "x": { "Keys": [ "k" ], "TokensPerMinute": 1000, "Burst": 2 } } """, "Gatehouse:Apps:x:Burst needs Gatehouse:Apps:x:RequestsPerMinute" },
        { "provider Burst 0", """ "Providers": { "up": { "Kind": "Simulated", "RequestsPerMinute": 5, "Burst": 0 } } """, "Gatehouse:Providers:up:Burst must be a whole number between 1 and 10000000; it is 0." },
        { "provider Burst above RequestsPerMinute", """ "Providers": { "up": { "Kind": "Simulated", "RequestsPerMinute": 5, "Burst": 9 } } """, "Gatehouse:Providers:up:Burst must be between 1 and Gatehouse:Providers:up:RequestsPerMinute (5); it is 9." },
        { "provider Burst without RequestsPerMinute", """ "Providers": { "up": { "Kind": "Simulated", "Burst": 2 } } """, "Gatehouse:Providers:up:Burst needs Gatehouse:Providers:up:RequestsPerMinute" },
    };

    [Theory]
    [MemberData(nameof(BadBursts))]
    public async Task Start_BadBurst_ExitsNamingTheKey(string name, string entry, string expected)
    {
        var config = "{ \"Gatehouse\": { " + entry + " } }";

        var error = await Assert.ThrowsAsync<SiloExitedException>(() => SiloProcess.StartAsync(config));

        Assert.True(error.ExitCode == 1, $"{name}: exit code {error.ExitCode}\n{error.Output}");
        Assert.Contains("configuration is invalid", error.Output);
        Assert.Contains(expected, error.Output);
        Assert.DoesNotContain("   at ", error.Output);
    }
}
