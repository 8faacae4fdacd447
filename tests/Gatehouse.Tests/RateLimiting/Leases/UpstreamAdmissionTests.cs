using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Providers;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.RateLimiting.Leases;

/// <summary>One attempt's admission: the concurrency slot first, then the request unit, against a counting authority.</summary>
public sealed class UpstreamAdmissionTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly CountingAuthority _authority = new();
    private readonly UpstreamAdmission _admission;
    private readonly RequestDeadlines _deadlines;

    public UpstreamAdmissionTests()
    {
        var options = Options.Create(new GatehouseOptions
        {
            Providers = { ["p"] = new ProviderOptions { Kind = "Simulated", RequestsPerMinute = 600, MaxConcurrency = 1 } },
        });
        var holder = new QuotaLeaseHolder(_ => _authority, _time, options.Value.RateLimits, NullLogger.Instance);
        _admission = new UpstreamAdmission(holder, new QuotaScopes(options, AppRegistry.FromConfiguration(options.Value)), new TokenEstimator(options.Value.RateLimits));
        _deadlines = new RequestDeadlines(options, _time);
    }

    private static RoutedCall Call() => new() { AppId = "app", Alias = "m" };

    private static ChatRequest Ask() => new() { Model = "m", Messages = [ChatMessage.FromText(ChatRole.User, "hi")] };

    private ValueTask<UpstreamPermit> Admit(int waitMs) =>
        _admission.AcquireAsync("p", Call(), Ask(), _deadlines.Start(new CallOptions { MaxWait = TimeSpan.FromMilliseconds(waitMs) }), CancellationToken.None);

    [Fact]
    public async Task AcquireAsync_SlotWaitFails_DebitsNoRequestUnit()
    {
        using var first = await Admit(waitMs: 0);
        Assert.Null(first.Rejected);

        var waiting = Admit(waitMs: 500).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(500));
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(GatewayError.RateLimited, second.Rejected?.Error);
        Assert.Equal(1, _authority.RequestsGranted);
    }

    [Fact]
    public async Task AcquireAsync_RequestUnitRefused_ReleasesTheSlot()
    {
        _authority.Refuse = true;
        using var refused = await Admit(waitMs: 0);
        Assert.Equal(GatewayError.RateLimited, refused.Rejected?.Error);

        _authority.Refuse = false;
        using var admitted = await Admit(waitMs: 0);

        Assert.Null(admitted.Rejected);
        Assert.Equal(1, _authority.SlotRequests);
    }

    /// <summary>Grants exactly the units a request needs (so every unit debited is counted here) and a cap of one slot.</summary>
    private sealed class CountingAuthority : IQuotaAuthority
    {
        public bool Refuse { get; set; }

        public int RequestsGranted { get; private set; }

        public int SlotRequests { get; private set; }

        public Task<LeaseGrant> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
        {
            if (Refuse)
            {
                return Task.FromResult(new LeaseGrant { Granted = false, RetryAfter = TimeSpan.FromSeconds(1) });
            }

            RequestsGranted += request.RequestsNeeded;
            return Task.FromResult(new LeaseGrant
            {
                Granted = true,
                GrantedAtTicks = 1,
                Requests = request.RequestsNeeded,
                Tokens = request.TokensNeeded,
                ValidFor = TimeSpan.FromSeconds(1),
            });
        }

        public ValueTask SettleAsync(LeaseSettlement settlement, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<SlotGrant> LeaseSlotsAsync(SlotRequest request, CancellationToken cancellationToken = default)
        {
            SlotRequests++;
            return Task.FromResult(new SlotGrant { Held = 1, ValidFor = TimeSpan.FromSeconds(10), Limit = 1, Sequence = request.Sequence });
        }
    }
}
