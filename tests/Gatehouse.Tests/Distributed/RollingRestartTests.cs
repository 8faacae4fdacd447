using System.Collections.Concurrent;
using Gatehouse.Tests.Doubles;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Distributed;

/// <summary>
/// A rolling restart of all three silos (graceful stop, start again, next silo) under light load through the HTTP API
/// and the grain client: a caller that retries a failed call once never sees a failure.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    private const string AppKey = "gk-rolling-FAKE";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RestartEverySiloInTurnUnderLoad_CallersThatRetryOnceNeverFail()
    {
        await using var upstream = await OpenAIUpstreamDouble.StartAsync();
        upstream.DelayMs = 50;
        var config = $$"""
            {
              "Gatehouse": {
                "Providers": { "steady": { "Kind": "OpenAICompatible", "BaseUrl": "{{upstream.BaseUrlFor("steady")}}", "MaxConcurrency": 16, "TimeoutSeconds": 20 } },
                "Models": { "steady": { "Targets": [ { "Provider": "steady", "Model": "steady-model" } ] } },
                "Apps": { "rolling": { "Keys": [ "{{AppKey}}" ], "RequestsPerMinute": 100000 } },
                "Cache": { "Enabled": true }
              }
            }
            """;
        await using var cluster = await LocalCluster.UpAsync(3, config);
        using var balancer = new HttpBalancer(cluster.Silos, CallTimeout);
        // This client is given the three gateways (the drill's discovers them in the membership table).
        using var client = await SiloLossTests.StartGrainClientAsync(cluster.PostgresConnectionString, AppKey, cluster.Silos);
        var chat = client.Services.GetRequiredService<IChatClient>();

        var firstTries = new ConcurrentBag<CallOutcome>();
        var finals = new ConcurrentBag<CallOutcome>();
        using var stop = new CancellationTokenSource();
        var sequence = 0;
        var callers = new List<Task>
        {
            Loop(() => balancer.SendAsync("http", AppKey, "steady", $"rolling {Interlocked.Increment(ref sequence)}", 1)),
            Loop(() => balancer.SendAsync("http", AppKey, "steady", $"rolling {Interlocked.Increment(ref sequence)}", 1)),
            Loop(() => GrainCaller.SendAsync(chat, "grain", "steady", $"rolling {Interlocked.Increment(ref sequence)}", 1, CallTimeout)),
        };

        var restarts = new List<string>();
        foreach (var silo in cluster.Silos.ToArray())
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            balancer.MarkDown(silo.Index);
            await cluster.StopAsync(silo.Index);
            var stopped = watch.Elapsed;
            await cluster.StartAsync(silo.Index);
            balancer.MarkUp(cluster[silo.Index]);
            restarts.Add($"silo {silo.Index}: stopped in {stopped.TotalSeconds:0.0} s, ready again after {watch.Elapsed.TotalSeconds:0.0} s");
        }

        stop.Cancel();
        await Task.WhenAll(callers);

        var first = firstTries.ToArray();
        var final = finals.ToArray();
        output.WriteLine($"calls: {final.Length}; first tries that failed and were retried: {first.Count(o => o.Kind != CallKind.Ok)}; failed after one retry: {final.Count(o => o.Kind != CallKind.Ok)}");
        restarts.ForEach(output.WriteLine);
        foreach (var failure in first.Where(o => o.Kind != CallKind.Ok).Take(20))
        {
            output.WriteLine($"  first try {failure.Kind} {failure.Path}: {failure.Detail}");
        }

        foreach (var silo in cluster.Silos)
        {
            foreach (var warning in cluster.LogOf(silo.Index).Split('\n').Where(l => l.Contains("warn", StringComparison.Ordinal) || l.Contains("fail", StringComparison.Ordinal)).Take(10))
            {
                output.WriteLine($"  silo {silo.Index} log: {warning}");
            }
        }

        Assert.All(final, o => Assert.True(o.Kind == CallKind.Ok, $"{o.Path} failed after a retry: {o.Detail}"));
        Assert.Contains(final, o => o.Path.StartsWith("grain", StringComparison.Ordinal));
        Assert.True(final.Length >= 30, $"only {final.Length} calls were made during the restarts");

        async Task Loop(Func<Task<CallOutcome>> call)
        {
            while (!stop.IsCancellationRequested)
            {
                var outcome = await call();
                if (outcome.Kind != CallKind.Ok)
                {
                    firstTries.Add(outcome);
                    outcome = await call();
                }

                finals.Add(outcome);
                await Task.Delay(100);
            }
        }
    }
}
