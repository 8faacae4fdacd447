// Cache-hit throughput and latency through the grain client (IChatClient over the Orleans client), closed loop.
//   dotnet GrainClientBench.dll --gateway-port 31000 --key gk-bench --model gpt-4o-mini --concurrency 64 --duration 10 --warmup 3
// Every request is identical and deterministic (temperature 0), so after the first one every answer is a cache hit.
using System.Globalization;
using Gatehouse.Client;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var options = Args.Parse(args);
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Orleans", LogLevel.Error);
builder.Services.AddGatehouseClient(o =>
{
    o.AppKey = options.Key;
    o.GatewayPort = options.GatewayPort;
    o.DefaultModel = options.Model;
});

using var host = builder.Build();
await host.StartAsync();
var chat = host.Services.GetRequiredService<IChatClient>();
var time = TimeProvider.System;
ChatMessage[] messages =
[
    new(ChatRole.System, "You are a terse assistant used by a gateway benchmark."),
    new(ChatRole.User, "grain client cache-hit benchmark"),
];
var chatOptions = new ChatOptions { Temperature = 0, MaxOutputTokens = 64 };

// The first call fills the cache entry; the warm-up then lets tiered JIT and connections settle.
var first = await chat.GetResponseAsync(messages, chatOptions);
Console.WriteLine($"first answer: {first.Text.Length} chars, cache={first.AdditionalProperties?.GetValueOrDefault("gatehouse.cache")}");
await RunAsync(options.Warmup, record: false);
var (count, errors, latencies, elapsed) = await RunAsync(options.Duration, record: true);

latencies.Sort();
double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
var rps = count / elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"concurrency={options.Concurrency} duration={elapsed.TotalSeconds:F1}s requests={count} errors={errors} rps={rps:F0} p50={Percentile(0.50):F3}ms p90={Percentile(0.90):F3}ms p99={Percentile(0.99):F3}ms"));
await host.StopAsync();
return errors == 0 ? 0 : 1;

async Task<(long Count, long Errors, List<double> Latencies, TimeSpan Elapsed)> RunAsync(double seconds, bool record)
{
    var started = time.GetTimestamp();
    var deadline = TimeSpan.FromSeconds(seconds);
    long total = 0;
    long failed = 0;
    var perWorker = new List<double>[options.Concurrency];
    var workers = Enumerable.Range(0, options.Concurrency).Select(async w =>
    {
        var mine = perWorker[w] = new List<double>(1 << 16);
        while (time.GetElapsedTime(started) < deadline)
        {
            var t0 = time.GetTimestamp();
            try
            {
                await chat.GetResponseAsync(messages, chatOptions);
                Interlocked.Increment(ref total);
                if (record)
                {
                    mine.Add(time.GetElapsedTime(t0).TotalMilliseconds);
                }
            }
            catch (Exception)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }).ToArray();
    await Task.WhenAll(workers);
    return (total, failed, perWorker.SelectMany(l => l).ToList(), time.GetElapsedTime(started));
}

internal sealed record Args(int GatewayPort, string Key, string Model, int Concurrency, double Duration, double Warmup)
{
    public static Args Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var duration = double.Parse(Get("--duration", "10"), CultureInfo.InvariantCulture);
        return new Args(
            int.Parse(Get("--gateway-port", "30000"), CultureInfo.InvariantCulture),
            Get("--key", "gk-local-dev"),
            Get("--model", "sim"),
            int.Parse(Get("--concurrency", "64"), CultureInfo.InvariantCulture),
            Math.Min(duration, 30),
            Math.Min(double.Parse(Get("--warmup", "3"), CultureInfo.InvariantCulture), 10));
    }
}
