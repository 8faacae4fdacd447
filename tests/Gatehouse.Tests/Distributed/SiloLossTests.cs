using System.Collections.Concurrent;
using Gatehouse.Client;
using Gatehouse.Tests.Doubles;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Distributed;

/// <summary>
/// PostgreSQL and three silo processes (<c>scripts/cluster.sh</c>), load through all three HTTP APIs and through the
/// grain client from this process, and the silo hosting the limited upstream's authority killed with SIGKILL in the
/// middle. Every call ends clearly within its timeout, calls after the death is detected succeed, the limits hold at
/// the upstream, identical calls spread over the silos make one upstream call, and the killed silo rejoins.
/// </summary>
public sealed class SiloLossTests(ITestOutputHelper output)
{
    private const string CappedKey = "gk-drill-capped-FAKE";
    private const string OtherKey = "gk-drill-other-FAKE";
    private const string SteadyKey = "gk-drill-steady-FAKE";
    private const int ProviderRequestsPerMinute = 120;
    private const int AppRequestsPerMinute = 90;
    private const int ProviderMaxConcurrency = 3;
    private const int IdenticalCalls = 12;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan GrainCallTimeout = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan LoadBeforeKill = TimeSpan.FromSeconds(8);
    // Longer than the grain client's call timeout, so its callers get past a call that was in flight on the dead gateway.
    private static readonly TimeSpan LoadAfterDetection = GrainCallTimeout + TimeSpan.FromSeconds(6);

    [Fact]
    public async Task KillOneOfThreeSilosUnderLoad_CallsEndClearly_LimitsHold_AndTheSiloRejoins()
    {
        await using var upstream = await OpenAIUpstreamDouble.StartAsync();
        upstream.Behavior = request => new UpstreamReply
        {
            // Long enough for the concurrency cap to matter, and for identical calls to arrive during one flight.
            DelayMs = request.LastUserText.StartsWith("identical", StringComparison.Ordinal) ? 2000 : 100,
        };
        await using var cluster = await LocalCluster.UpAsync(3, Config(upstream));
        using var balancer = new HttpBalancer(cluster.Silos, CallTimeout);
        using var client = await StartGrainClientAsync(cluster.PostgresConnectionString, SteadyKey);
        var clusterClient = client.Services.GetRequiredService<IClusterClient>();
        var steadyChat = client.Services.GetRequiredService<IChatClient>();
        var cappedChat = new GatehouseChatClient(clusterClient, Options.Create(new GatehouseClientOptions { AppKey = CappedKey }));

        var outcomes = new ConcurrentBag<CallOutcome>();
        using var stop = new CancellationTokenSource();
        var sequence = 0;
        string Prompt(string path) => $"{path} call {Interlocked.Increment(ref sequence)}";
        var callers = new List<Task>
        {
            Loop(() => balancer.SendAsync("http open", SteadyKey, "open", Prompt("open"), 1)),
            Loop(() => balancer.SendAsync("http open", SteadyKey, "open", Prompt("open"), 1)),
            Loop(() => balancer.SendAsync("http capped", CappedKey, "limited", Prompt("capped"), 1)),
            Loop(() => balancer.SendAsync("http other", OtherKey, "limited", Prompt("other"), 1)),
            Loop(() => GrainCaller.SendAsync(steadyChat, "grain open", "open", Prompt("open"), 1, CallTimeout)),
            Loop(() => GrainCaller.SendAsync(cappedChat, "grain capped", "limited", Prompt("capped"), 1, CallTimeout)),
        };

        await Task.Delay(LoadBeforeKill);
        var victim = await SiloHostingAsync(clusterClient, cluster, "Gatehouse.RateLimiting.Authorities.UpstreamQuotaGrain,Gatehouse.Grains", "limited");
        var killedAt = DateTimeOffset.UtcNow;
        await cluster.KillAsync(victim);
        var detectedAt = await DeclaredDeadAsync(clusterClient, cluster[victim], TimeSpan.FromSeconds(60));
        await Task.Delay(LoadAfterDetection);
        stop.Cancel();
        await Task.WhenAll(callers);

        await cluster.StartAsync(victim);
        balancer.MarkUp(cluster[victim]);
        var rejoined = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            balancer.SendAsync("http rejoined", SteadyKey, "open", $"rejoined {i}", 1, only: victim)));

        // N identical deterministic calls spread over the three silos (the restarted one included) share one flight.
        var identical = await Task.WhenAll(Enumerable.Range(0, IdenticalCalls).Select(i =>
            balancer.SendAsync("http identical", SteadyKey, "open", "identical question", 0, only: 1 + (i % 3))));

        var all = outcomes.ToArray();
        var afterDetection = all.Where(o => o.Started > detectedAt).ToArray();
        var openPath = (CallOutcome o) => o.Path.Contains("open", StringComparison.Ordinal);
        var limitedArrivals = upstream.Requests.Where(r => r.Tag == "limited").ToArray();
        var firstOkAfterKill = all.Where(o => o.Kind == CallKind.Ok && o.Started > killedAt).Select(o => o.Started + o.Took).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        output.WriteLine($"calls: {all.Length}; " + string.Join(", ", all.GroupBy(o => o.Kind).Select(g => $"{g.Key} {g.Count()}")));
        output.WriteLine($"killed silo {victim} (hosting the 'limited' upstream's authority); declared dead {(detectedAt - killedAt).TotalSeconds:0.0} s after the kill; "
            + $"first answer completed after the kill: {(firstOkAfterKill - killedAt).TotalSeconds:0.00} s");
        output.WriteLine($"after detection: {afterDetection.Length} calls, " + string.Join(", ", afterDetection.GroupBy(o => o.Kind).Select(g => $"{g.Key} {g.Count()}")));
        output.WriteLine($"limited upstream: {limitedArrivals.Length} calls (limit {ProviderRequestsPerMinute}/min), peak in flight {upstream.PeakInFlightFor("limited")} (limit {ProviderMaxConcurrency}); "
            + $"capped app {limitedArrivals.Count(r => r.LastUserText.StartsWith("capped", StringComparison.Ordinal))}, other app {limitedArrivals.Count(r => r.LastUserText.StartsWith("other", StringComparison.Ordinal))} (limit {AppRequestsPerMinute}/min each)");
        output.WriteLine($"identical calls: {identical.Count(o => o.Kind == CallKind.Ok)}/{IdenticalCalls} answered, upstream calls {upstream.Requests.Count(r => r.LastUserText == "identical question")}");
        foreach (var failure in all.Where(o => o.Kind is CallKind.FailedClearly or CallKind.FailedUnclearly).Take(20))
        {
            output.WriteLine($"  {failure.Kind} {failure.Path} at +{(failure.Started - killedAt).TotalSeconds:0.00} s: {failure.Detail}");
        }

        Assert.All(all, o => Assert.True(o.Kind != CallKind.FailedUnclearly, $"{o.Path}: {o.Detail}"));
        Assert.All(afterDetection.Where(openPath), o => Assert.True(o.Kind == CallKind.Ok, $"{o.Path} after detection: {o.Detail}"));
        Assert.All(afterDetection, o => Assert.True(o.Kind is CallKind.Ok or CallKind.Refused, $"{o.Path} after detection: {o.Detail}"));
        Assert.Contains(afterDetection, o => o.Path.StartsWith("http", StringComparison.Ordinal) && o.Kind == CallKind.Ok);
        Assert.Contains(afterDetection, o => o.Path.StartsWith("grain", StringComparison.Ordinal) && o.Kind == CallKind.Ok);

        // The run is shorter than a minute, so every call counts in one window: the totals are the bounds.
        Assert.True(all.Max(o => o.Started + o.Took) - all.Min(o => o.Started) < TimeSpan.FromSeconds(60), "the load must fit in one minute's window");
        Assert.InRange(limitedArrivals.Length, 1, ProviderRequestsPerMinute);
        Assert.InRange(limitedArrivals.Count(r => r.LastUserText.StartsWith("capped", StringComparison.Ordinal)), 1, AppRequestsPerMinute);
        Assert.InRange(limitedArrivals.Count(r => r.LastUserText.StartsWith("other", StringComparison.Ordinal)), 1, AppRequestsPerMinute);
        Assert.Contains(all, o => o.Kind == CallKind.Refused);
        Assert.InRange(upstream.PeakInFlightFor("limited"), 1, ProviderMaxConcurrency);

        // The authorities' grant records are rows in PostgreSQL: that is what the new activation resumed from.
        await using (var database = new Npgsql.NpgsqlConnection(cluster.PostgresConnectionString))
        {
            await database.OpenAsync();
            await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM orleans_grain_state", database);
            Assert.True((long)(await count.ExecuteScalarAsync())! >= 3, "the limited upstream's and both apps' grant records are stored");
        }

        Assert.All(rejoined, o => Assert.True(o.Kind == CallKind.Ok, $"restarted silo {victim}: {o.Detail}\n{cluster.LogOf(victim)}"));
        Assert.All(identical, o => Assert.True(o.Kind == CallKind.Ok, o.Detail));
        Assert.Equal(1, upstream.Requests.Count(r => r.LastUserText == "identical question"));

        async Task Loop(Func<Task<CallOutcome>> call)
        {
            while (!stop.IsCancellationRequested)
            {
                outcomes.Add(await call());
                await Task.Delay(50);
            }
        }
    }

    internal static string Config(OpenAIUpstreamDouble upstream) => $$"""
        {
          "Gatehouse": {
            "Providers": {
              "limited": { "Kind": "OpenAICompatible", "BaseUrl": "{{upstream.BaseUrlFor("limited")}}",
                           "RequestsPerMinute": {{ProviderRequestsPerMinute}}, "MaxConcurrency": {{ProviderMaxConcurrency}}, "TimeoutSeconds": 20 },
              "open":    { "Kind": "OpenAICompatible", "BaseUrl": "{{upstream.BaseUrlFor("open")}}", "TimeoutSeconds": 20 }
            },
            "Models": {
              "limited": { "Targets": [ { "Provider": "limited", "Model": "limited-model" } ] },
              "open":    { "Targets": [ { "Provider": "open", "Model": "open-model" } ] }
            },
            "Apps": {
              "capped": { "Keys": [ "{{CappedKey}}" ], "RequestsPerMinute": {{AppRequestsPerMinute}} },
              "other":  { "Keys": [ "{{OtherKey}}" ], "RequestsPerMinute": {{AppRequestsPerMinute}} },
              "steady": { "Keys": [ "{{SteadyKey}}" ] }
            },
            "Cache": { "Enabled": true }
          }
        }
        """;

    /// <summary>A grain client that finds the gateways in the membership table (or, with <paramref name="gateways"/>, is given them).</summary>
    internal static async Task<IHost> StartGrainClientAsync(string postgres, string appKey, IEnumerable<ClusterSilo>? gateways = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGatehouseClient(o =>
        {
            o.AppKey = appKey;
            // Below the callers' own deadline: a call in flight on a gateway that dies ends with the client's clear error.
            o.CallTimeout = GrainCallTimeout;
            if (gateways is null)
            {
                o.Cluster = GatehouseClusterKind.AdoNet;
                o.ConnectionString = postgres;
            }
            else
            {
                o.Cluster = GatehouseClusterKind.StaticGateways;
                o.Gateways = [.. gateways.Select(g => $"127.0.0.1:{g.GatewayPort}")];
            }
        });
        var host = builder.Build();
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(connect.Token);
        return host;
    }

    /// <summary>The index of the silo where the grain <paramref name="grainType"/>/<paramref name="key"/> is active.</summary>
    private static async Task<int> SiloHostingAsync(IClusterClient client, LocalCluster cluster, string grainType, string key)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var statistics = await management.GetDetailedGrainStatistics([grainType]);
        var activation = statistics.FirstOrDefault(s => s.GrainId.Key.ToString() == key)
            ?? throw new InvalidOperationException($"no activation of {grainType}/{key} among: {string.Join(", ", statistics.Select(s => $"{s.GrainType} {s.GrainId}"))}; "
                + string.Join(", ", (await management.GetDetailedGrainStatistics()).Select(s => s.GrainType).Distinct()));
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        var gatewayPort = hosts.Single(h => h.SiloAddress.Equals(activation.SiloAddress)).ProxyPort;
        return cluster.Silos.Single(s => s.GatewayPort == gatewayPort).Index;
    }

    /// <summary>Polls the membership until the silo is no longer active; returns when that was seen.</summary>
    private static async Task<DateTimeOffset> DeclaredDeadAsync(IClusterClient client, ClusterSilo silo, TimeSpan within)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var deadline = DateTimeOffset.UtcNow + within;
        while (DateTimeOffset.UtcNow < deadline)
        {
            try
            {
                var hosts = await management.GetDetailedHosts(onlyActive: true);
                if (hosts.All(h => h.ProxyPort != silo.GatewayPort))
                {
                    return DateTimeOffset.UtcNow;
                }
            }
            catch (Exception ex) when (ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException)
            {
                // The management grain may have lived on the dead silo; ask again.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"silo {silo.Index} was not declared dead within {within}");
    }
}
