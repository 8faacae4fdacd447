using System.Collections.Concurrent;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Routing;

/// <summary>
/// One in-process silo whose lease holder draws from <see cref="Authority"/> (a callback fake, on the shared
/// <see cref="FakeTimeProvider"/>) instead of the provider grains, so a test decides what each upstream's buckets answer.
/// </summary>
public sealed class RouterAdmissionFixture : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Config = new()
    {
        ["Gatehouse:Providers:busy:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:busy:RequestsPerMinute"] = "600",
        ["Gatehouse:Providers:busy:Retries"] = "2",
        ["Gatehouse:Providers:flaky:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:flaky:RequestsPerMinute"] = "600",
        ["Gatehouse:Providers:flaky:Retries"] = "2",
        ["Gatehouse:Providers:flaky:RetryDelayMs"] = "0",
        ["Gatehouse:Providers:flaky:CircuitBreaker:FailureThreshold"] = "100",
        ["Gatehouse:Providers:first:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:first:RequestsPerMinute"] = "600",
        ["Gatehouse:Providers:second:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Providers:second:RequestsPerMinute"] = "600",
        ["Gatehouse:Providers:spare:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:busy-chain:Targets:0:Provider"] = "busy",
        ["Gatehouse:Models:busy-chain:Targets:0:Model"] = "busy-model",
        ["Gatehouse:Models:busy-chain:Fallbacks:0"] = "spare",
        ["Gatehouse:Models:flaky-solo:Targets:0:Provider"] = "flaky",
        ["Gatehouse:Models:flaky-solo:Targets:0:Model"] = "flaky-model",
        ["Gatehouse:Models:two-limited:Targets:0:Provider"] = "first",
        ["Gatehouse:Models:two-limited:Targets:0:Model"] = "first-model",
        ["Gatehouse:Models:two-limited:Fallbacks:0"] = "second-solo",
        ["Gatehouse:Models:second-solo:Targets:0:Provider"] = "second",
        ["Gatehouse:Models:second-solo:Targets:0:Model"] = "second-model",
        ["Gatehouse:Models:spare:Targets:0:Provider"] = "spare",
        ["Gatehouse:Models:spare:Targets:0:Model"] = "spare-model",
        ["Gatehouse:Apps:tester:Keys:0"] = "gk-router-admission",
    };

    public FakeUpstreams Upstreams { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public BucketAuthority Authority { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Authority = new BucketAuthority(Time);
        var builder = new InProcessTestClusterBuilder(1);
        var (upstreams, time, authority) = (Upstreams, Time, Authority);
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(time);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            // Registered before the gateway's own: its TryAdd keeps this one.
            silo.Services.AddSingleton(sp => new QuotaLeaseHolder(
                scope => authority.For(scope.Name), time, sp.GetRequiredService<IOptions<GatehouseOptions>>().Value.RateLimits, NullLogger.Instance));
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        // A failed test may leave a request waiting on the fake clock; the silo would wait for it on shutdown.
        Time.Advance(TimeSpan.FromHours(1));
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public IGrainFactory GrainFactory => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();
}

/// <summary>
/// Every scope's bucket authority: grants exactly the units a request needs, or — for a scope set to refuse —
/// refuses when the request's max-wait has passed on the fake clock (at once for none). Records every lease request.
/// </summary>
public sealed class BucketAuthority(FakeTimeProvider time)
{
    private readonly ConcurrentDictionary<string, bool> _refusing = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _awaited = [];

    public ConcurrentQueue<(string Scope, LeaseRequest Request)> Requests { get; } = new();

    public static TimeSpan RefusalRetryAfter => TimeSpan.FromSeconds(1);

    public void Refuse(string scope) => _refusing[scope] = true;

    public int RequestsTo(string scope) => Requests.Count(r => r.Scope == scope);

    /// <summary>Completes when <paramref name="count"/> lease requests have arrived (a phase barrier).</summary>
    public Task Reached(int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _awaited.Add((count, reached));
            Signal();
        }

        return reached.Task;
    }

    public IQuotaAuthority For(string scope) => new Scoped(this, scope);

    private async Task<LeaseGrant> AcquireAsync(string scope, LeaseRequest request, CancellationToken cancellationToken)
    {
        var refusing = _refusing.ContainsKey(scope);
        Task wait = refusing && request.MaxWait > TimeSpan.Zero ? Task.Delay(request.MaxWait, time, cancellationToken) : Task.CompletedTask;
        Requests.Enqueue((scope, request));
        lock (_lock)
        {
            Signal();
        }

        await wait;
        return refusing
            ? new LeaseGrant { Granted = false, RetryAfter = RefusalRetryAfter }
            : new LeaseGrant { Granted = true, GrantedAtTicks = 1, Requests = request.RequestsNeeded, Tokens = request.TokensNeeded, ValidFor = TimeSpan.FromSeconds(1) };
    }

    private void Signal()
    {
        foreach (var awaited in _awaited.Where(a => Requests.Count >= a.Count).ToList())
        {
            awaited.Reached.TrySetResult();
            _awaited.Remove(awaited);
        }
    }

    private sealed class Scoped(BucketAuthority authority, string scope) : IQuotaAuthority
    {
        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) =>
            authority.AcquireAsync(scope, request, cancellationToken);

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
