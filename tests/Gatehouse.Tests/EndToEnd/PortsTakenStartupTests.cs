namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// A second silo started on a port a running one holds refuses to start, naming the port and its setting, instead of
/// sharing it (Kestrel and Orleans bind with address reuse, so both used to listen and clients reached either).
/// </summary>
public sealed class PortsTakenStartupTests
{
    public static TheoryData<string> Ports() => ["silo", "gateway", "http"];

    [Theory]
    [MemberData(nameof(Ports))]
    public async Task Start_PortHeldByARunningSilo_ExitsNamingThePortAndLeavesTheFirstServing(string which)
    {
        await using var first = await SiloProcess.StartAsync(configJson: null);
        (int? Http, int? Silo, int? Gateway) ports = which switch
        {
            "silo" => (null, first.SiloPort, null),
            "gateway" => (null, null, first.GatewayPort),
            _ => (new Uri(first.BaseUrl).Port, null, null),
        };

        var refused = await SiloProcess.StartExpectingExitAsync(configJson: null, ports: ports);

        Assert.Equal(1, refused.ExitCode);
        var expected = which switch
        {
            "silo" => $"port {first.SiloPort} (Gatehouse:Cluster:SiloPort) is already in use by another process",
            "gateway" => $"port {first.GatewayPort} (Gatehouse:Cluster:GatewayPort) is already in use by another process",
            _ => $"port {new Uri(first.BaseUrl).Port} (the HTTP address {first.BaseUrl}) is already in use by another process",
        };
        Assert.Contains(expected, refused.Output);
        Assert.DoesNotContain("   at ", refused.Output);
        using var http = new HttpClient();
        Assert.Equal("ready", await http.GetStringAsync(first.BaseUrl + "/readyz"));
    }

    [Fact]
    public async Task Start_AgainOnTheSamePortsRightAfterTheFirstStopped_Starts()
    {
        var first = await SiloProcess.StartAsync(configJson: null);
        var ports = (new Uri(first.BaseUrl).Port, first.SiloPort, first.GatewayPort);
        using (var http = new HttpClient())
        {
            Assert.Equal("ready", await http.GetStringAsync(first.BaseUrl + "/readyz"));
        }

        await first.DisposeAsync();

        // Connections the first silo served may linger in TIME_WAIT: that is not a port in use.
        await using var again = await SiloProcess.StartAsync(configJson: null, ports: ports);
        using var client = new HttpClient();
        Assert.Equal("ready", await client.GetStringAsync(again.BaseUrl + "/readyz"));
    }
}
