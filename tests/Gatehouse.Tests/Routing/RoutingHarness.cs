using System.Diagnostics.Metrics;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.Providers;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Routing;
using Gatehouse.Routing.Invokers;
using Gatehouse.Tests.Fakes;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Routing;

/// <summary>
/// The router's parts without a silo, on one <see cref="FakeTimeProvider"/>: a route table whose targets are
/// <see cref="FakeChatGateway"/>s behind the real invokers, the walk over it, a ledger that keeps every record, and
/// upstream concurrency slots granted by a callback authority (one slot per provider that sets <c>MaxConcurrency</c>).
/// </summary>
internal sealed class RoutingHarness : IDisposable
{
    public const string AppId = "tester";

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly QuotaLeaseHolder _leases;
    private readonly QuotaScopes _scopes;
    private readonly RequestDeadlines _deadlines;

    public RoutingHarness(GatehouseOptions options)
    {
        var monitored = Options.Create(options);
        States = new UpstreamStates(options, Time);
        Metrics = new GatehouseMetrics(_services.GetRequiredService<IMeterFactory>(), States, Time);
        var meter = new UsageMeter(Ledger, new UsagePricer(new TestOptionsMonitor<GatehouseOptions>(options)), Metrics, Time);
        _leases = new QuotaLeaseHolder(_ => new OneSlotAuthority(), Time, options.RateLimits, NullLogger.Instance);
        _scopes = new QuotaScopes(monitored, Gatehouse.Apps.AppRegistry.FromConfiguration(options));
        _deadlines = new RequestDeadlines(monitored, Time);
        var admission = new UpstreamAdmission(_leases, _scopes, new TokenEstimator(options.RateLimits));
        Routes = new RouteTable(
            options, new ProviderRegistry([new FakeChatGatewayFactory(Upstreams, "unit")]), States,
            new TargetInvokers(admission, meter, Metrics, NullLogger.Instance, Time), Time, new Random(1));
        var probe = new CircuitProbe(provider => throw new InvalidOperationException($"No circuit of these tests opens ({provider})."), "unit", NullLogger.Instance);
        Walker = new RouteWalker(Routes, probe, _deadlines, Metrics, Time, NullLogger.Instance);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public FakeUpstreams Upstreams { get; } = new();

    public RecordingLedger Ledger { get; } = new();

    public UpstreamStates States { get; }

    public GatehouseMetrics Metrics { get; }

    public RouteTable Routes { get; }

    public RouteWalker Walker { get; }

    /// <summary>A provider served by a <see cref="FakeChatGateway"/>, retrying at once.</summary>
    public static ProviderOptions Provider(int retries = 0, int? maxConcurrency = null) =>
        new() { Kind = FakeChatGatewayFactory.FakeKind, Retries = retries, RetryDelayMs = 0, MaxConcurrency = maxConcurrency };

    /// <summary>A target of <paramref name="provider"/> serving the model <c>{provider}-model</c>.</summary>
    public static TargetOptions Target(string provider) => new() { Provider = provider, Model = provider + "-model" };

    public static ChatRequest Ask(string alias) => new() { Model = alias, Messages = [ChatMessage.FromText(ChatRole.User, "hello")] };

    /// <summary>One call to <paramref name="alias"/> as its first target's invokers see it.</summary>
    public UpstreamCall Call(string alias, UpstreamOperation operation = UpstreamOperation.Complete) =>
        new(new RoutedCall { AppId = AppId, Alias = alias }, Ask(alias), operation, _deadlines.Start(CallOptions.Default), new AttemptCounter());

    /// <summary>The invokers of <paramref name="alias"/>'s first target.</summary>
    public ITargetInvoker Invoker(string alias) => Routes.Find(alias)!.Targets[0].Invoker;

    public Task<(WholeAnswer<ChatResponse> Answer, RouteTarget Target, int Attempts)> CompleteAsync(string alias, CancellationToken cancellationToken = default) =>
        Walker.WalkAsync<WholeAnswer<ChatResponse>>(alias, new RoutedCall { AppId = AppId, Alias = alias }, Ask(alias), UpstreamOperation.Complete, cancellationToken);

    public Task<(UpstreamStream Answer, RouteTarget Target, int Attempts)> StreamAsync(string alias, CancellationToken cancellationToken = default) =>
        Walker.WalkAsync<UpstreamStream>(alias, new RoutedCall { AppId = AppId, Alias = alias }, Ask(alias), UpstreamOperation.Stream, cancellationToken);

    /// <summary>Concurrency slots of <paramref name="provider"/> held on this silo and free (0 while its one slot is in use).</summary>
    public long FreeSlots(string provider) =>
        _leases.Slots.GetStatistics(new SlotDemand(_scopes.Provider(provider), RequestPriority.Normal, TimeSpan.Zero))?.CurrentAvailablePermits ?? 0;

    public void Dispose()
    {
        _leases.Dispose();
        Metrics.Dispose();
        _services.Dispose();
    }

    /// <summary>Grants each provider one concurrency slot; the harness's providers have no rate limits.</summary>
    private sealed class OneSlotAuthority : IQuotaAuthority
    {
        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The harness's providers have no rate limits.");

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default) =>
            Task.FromResult(new SlotGrant { Held = 1, ValidFor = TimeSpan.FromMinutes(10), Limit = 1, Sequence = request.Sequence });
    }
}
