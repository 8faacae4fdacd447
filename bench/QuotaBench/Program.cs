// Quota bench: several in-process silos (Orleans TestingHost) and several apps saturate one upstream whose
// requests/minute limit (Burst = a second's worth) is shared by all; a fake upstream records each arrival. Reports
// whether the limit's promises held on arrival times, and how many calls the authority grains received per 1,000 requests.
// Usage: dotnet run -c Release --project bench/QuotaBench -- [seconds=10] [upstreamRpm=6000] [silos=3] [callersPerAppPerSilo=16]
using System.Collections.Concurrent;
using System.Globalization;
using Gatehouse;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Gateway;
using Gatehouse.Grains;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

var seconds = Arg(0, 10);
var upstreamRpm = Arg(1, 6_000);
var silos = Arg(2, 3);
var callers = Arg(3, 16);
// Apps ask for more than the upstream allows in total (0.5 + 0.4 + 0.4 = 1.3x), so the upstream is the bottleneck.
var apps = new Dictionary<string, int> { ["alpha"] = upstreamRpm / 2, ["bravo"] = upstreamRpm * 2 / 5, ["charlie"] = upstreamRpm * 2 / 5 };

var config = new Dictionary<string, string?>
{
    ["Gatehouse:Providers:upstream:Kind"] = BenchUpstream.Kind,
    ["Gatehouse:Providers:upstream:RequestsPerMinute"] = upstreamRpm.ToString(CultureInfo.InvariantCulture),
    // A second's worth at once, then the limit's rate: the steady state is measured, not one minute's burst.
    ["Gatehouse:Providers:upstream:Burst"] = Math.Max(1, upstreamRpm / 60).ToString(CultureInfo.InvariantCulture),
    ["Gatehouse:Providers:latency:Kind"] = BenchUpstream.Kind,
    ["Gatehouse:Providers:latency:RequestsPerMinute"] = "10000000",
    ["Gatehouse:Models:bench:Targets:0:Provider"] = "upstream",
    ["Gatehouse:Models:bench:Targets:0:Model"] = "bench-model",
};
foreach (var (app, rpm) in apps)
{
    config[$"Gatehouse:Apps:{app}:Keys:0"] = "gk-" + app;
    config[$"Gatehouse:Apps:{app}:RequestsPerMinute"] = rpm.ToString(CultureInfo.InvariantCulture);
    config[$"Gatehouse:Apps:{app}:Burst"] = Math.Max(1, rpm / 60).ToString(CultureInfo.InvariantCulture);
}

var upstream = new BenchUpstream();
var builder = new InProcessTestClusterBuilder((short)silos);
builder.ConfigureSilo((_, silo) =>
{
    silo.AddMemoryGrainStorage(GatehouseStorageNames.Quota);
    silo.Services.AddGatehouseGrains(new ConfigurationBuilder().AddInMemoryCollection(config).Build().GetSection("Gatehouse"));
    silo.Services.AddSingleton<IChatGatewayFactory>(upstream);
});
var cluster = builder.Build();
await cluster.DeployAsync();
try
{
    var pipelines = cluster.Silos.Select(s => cluster.GetSiloServiceProvider(s.SiloAddress)).ToList();
    // No warm-up: the authorities' first grants are part of what is measured.
    var callsBefore = 0L;

    var started = TimeProvider.System.GetUtcNow();
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    long admitted = 0, refused = 0;
    var options = new CallOptions { MaxWait = TimeSpan.FromMilliseconds(500) };
    var tasks = new List<Task>();
    foreach (var services in pipelines)
    {
        var pipeline = services.GetRequiredService<ChatPipeline>();
        foreach (var app in apps.Keys)
        {
            for (var i = 0; i < callers; i++)
            {
                tasks.Add(Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        try
                        {
                            await pipeline.CompleteAsync(new AppIdentity(app, null), Ask(app), options, stop.Token);
                            Interlocked.Increment(ref admitted);
                        }
                        catch (GatewayException ex) when (ex.Error == GatewayError.RateLimited)
                        {
                            Interlocked.Increment(ref refused);
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    }
                }));
            }
        }
    }

    await Task.WhenAll(tasks);
    var ended = TimeProvider.System.GetUtcNow();
    var authorityCalls = pipelines.Sum(p => p.GetRequiredService<QuotaLeaseHolder>().AuthorityCalls) - callsBefore;
    var settlements = pipelines.Sum(p => p.GetRequiredService<QuotaLeaseHolder>().SettlementCalls);

    var budget = upstreamRpm / 60;
    var first = (started.UtcTicks / TimeSpan.TicksPerSecond) + 1;
    var last = (ended.UtcTicks / TimeSpan.TicksPerSecond) - 1;
    var perWindow = upstream.Arrivals.GroupBy(t => t / TimeSpan.TicksPerSecond).ToDictionary(g => g.Key, g => g.Count());
    var whole = Enumerable.Range(0, (int)(last - first + 1)).Select(i => perWindow.GetValueOrDefault(first + i)).ToList();
    // The limit's two promises, checked on arrival times: at most L in any 60 s (the run is shorter, so the total),
    // and at most Burst + rate × (span + 1 s) in any span (the second is a lease's life). With f(k) = k − rate·t_k the
    // second is f(j) − f(i) + 1 ≤ Burst + rate for every i ≤ j: one pass keeping the smallest f so far.
    var sorted = upstream.Arrivals.Order().ToList();
    var rate = upstreamRpm / 60.0 / TimeSpan.TicksPerSecond;
    var burst = Math.Max(1, upstreamRpm / 60);
    var worst = double.MinValue;
    var smallest = double.MaxValue;
    for (var k = 0; k < sorted.Count; k++)
    {
        var f = k - (rate * sorted[k]);
        smallest = Math.Min(smallest, f);
        worst = Math.Max(worst, f - smallest + 1 - (burst + (upstreamRpm / 60.0)));
    }

    Console.WriteLine($"silos={silos} apps={apps.Count} callers={silos * apps.Count * callers} upstreamRpm={upstreamRpm} burst={burst} duration={seconds}s");
    Console.WriteLine($"admitted={admitted} refused(429)={refused} upstream arrivals={upstream.Arrivals.Count} (limit {upstreamRpm} in any 60 s)");
    Console.WriteLine($"whole 1 s windows={whole.Count}: arrivals per window min={whole.Min()} avg={whole.Average():0.0} max={whole.Max()} (refill {budget}/s) utilization={whole.Average() / budget:P1}; per window: {string.Join(" ", whole)}");
    Console.WriteLine($"largest excess over Burst + rate x (span + 1 s), any span: {Math.Max(0, worst):0.0} calls ({(worst <= 0 ? "held" : "EXCEEDED")})");
    Console.WriteLine($"authority lease calls={authorityCalls} ({authorityCalls * 1000.0 / Math.Max(1, admitted + refused):0.0} per 1,000 requests; app + upstream authorities), settlement calls={settlements}");

    // Grant latency with the write-ahead record (memory grain storage here), against a plain call to the same upstream's provider grain.
    var authority = cluster.Client.GetGrain<IUpstreamQuotaGrain>(GrainKeys.UpstreamQuota("latency"));
    var health = cluster.Client.GetGrain<IProviderGrain>(GrainKeys.Provider("latency"));
    var lease = new LeaseRequest { HolderId = "bench", AppId = "bench", RequestsNeeded = 1, RequestsWanted = 1 };
    var report = new ProviderHealthReport { SiloId = "bench" };
    await authority.AcquireLeaseAsync(lease);
    await health.ReportHealthAsync(report);
    var grants = new List<double>();
    var plain = new List<double>();
    for (var i = 0; i < 500; i++)
    {
        var t0 = TimeProvider.System.GetTimestamp();
        await authority.AcquireLeaseAsync(lease);
        grants.Add(TimeProvider.System.GetElapsedTime(t0).TotalMilliseconds);
        t0 = TimeProvider.System.GetTimestamp();
        await health.ReportHealthAsync(report);
        plain.Add(TimeProvider.System.GetElapsedTime(t0).TotalMilliseconds);
    }

    static string Stats(List<double> ms) => $"p50={ms.Order().ElementAt(ms.Count / 2):0.000} ms p99={ms.Order().ElementAt(ms.Count * 99 / 100):0.000} ms";
    Console.WriteLine($"grant with persisted record: {Stats(grants)}; plain call to the upstream's provider grain: {Stats(plain)} (500 sequential calls each, from the cluster client)");
}
finally
{
    await cluster.StopAllSilosAsync();
    await cluster.DisposeAsync();
}

static ChatRequest Ask(string app) => new() { Model = "bench", Messages = [ChatMessage.FromText(ChatRole.User, app)] };

int Arg(int index, int fallback) => args.Length > index && int.TryParse(args[index], CultureInfo.InvariantCulture, out var value) ? value : fallback;

/// <summary>The upstream every silo shares: answers at once and records the arrival time (UTC ticks).</summary>
internal sealed class BenchUpstream : IChatGatewayFactory, IChatGateway
{
    public const string Kind = "BenchFake";

    public ConcurrentQueue<long> Arrivals { get; } = new();

    string IChatGatewayFactory.Kind => Kind;

    public IChatGateway Create(string providerName, ProviderOptions options) => this;

    public Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        Arrivals.Enqueue(TimeProvider.System.GetUtcNow().UtcTicks);
        return Task.FromResult(new ChatResponse
        {
            Id = "bench",
            Model = request.Model,
            Message = ChatMessage.FromText(ChatRole.Assistant, "ok"),
            Usage = new Usage { PromptTokens = 5, CompletionTokens = 1 },
        });
    }

    public IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;
}
