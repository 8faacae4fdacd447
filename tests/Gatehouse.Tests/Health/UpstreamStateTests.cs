using Gatehouse.Grains;
using Gatehouse.Health;
using Gatehouse.Providers;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Health;

public sealed class UpstreamStateTests
{
    private readonly FakeTimeProvider _time = new();

    private UpstreamState Create(int threshold = 3, double breakSeconds = 2) =>
        new("p", new ProviderOptions { CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = threshold, BreakSeconds = breakSeconds } }, _time);

    [Fact]
    public void RecordFailure_ThresholdConsecutiveLocalFailures_OpensThisSilosViewAtOnce()
    {
        var state = Create();
        state.RecordFailure(timedOut: false);
        state.RecordFailure(timedOut: true);
        Assert.Equal(Admission.Allowed, state.Admit(out _));

        state.RecordFailure(timedOut: false);

        Assert.Equal(Admission.Rejected, state.Admit(out var retryAt));
        Assert.Equal(TimeSpan.FromSeconds(2), _time.GetElapsedTime(_time.GetTimestamp(), retryAt));
    }

    [Fact]
    public void RecordFailure_SuccessInBetween_DoesNotOpen()
    {
        var state = Create();
        state.RecordFailure(false);
        state.RecordFailure(false);
        state.RecordSuccess(TimeSpan.FromMilliseconds(5));
        state.RecordFailure(false);
        state.RecordFailure(false);

        Assert.Equal(Admission.Allowed, state.Admit(out _));
    }

    [Fact]
    public void Admit_LocalBreakOver_AsksForAProbe()
    {
        var state = Create();
        for (var i = 0; i < 3; i++)
        {
            state.RecordFailure(false);
        }

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(Admission.Probe, state.Admit(out _));
        Assert.True(state.TryBeginProbe());
        Assert.False(state.TryBeginProbe());
        state.EndProbe();
        Assert.True(state.TryBeginProbe());
    }

    [Fact]
    public void Apply_ClusterSaysOpen_RejectsForTheTimeLeft()
    {
        var state = Create();

        state.Apply(new ProviderStatus { Circuit = CircuitState.Open, OpenFor = TimeSpan.FromSeconds(7), OtherSilosInFlight = 4 });

        Assert.Equal(Admission.Rejected, state.Admit(out var retryAt));
        Assert.Equal(TimeSpan.FromSeconds(7), _time.GetElapsedTime(_time.GetTimestamp(), retryAt));
        Assert.Equal(4, state.ClusterInFlight);
    }

    [Fact]
    public void Apply_ClosedFromAReportTakenBeforeALocalTrip_KeepsTheLocalTrip()
    {
        var state = Create();
        var versionAtReport = state.TripVersion;
        for (var i = 0; i < 3; i++)
        {
            state.RecordFailure(false);
        }

        state.Apply(new ProviderStatus { Circuit = CircuitState.Closed }, versionAtReport);
        Assert.Equal(Admission.Rejected, state.Admit(out _));

        // The next report already counted the trip's failures: the cluster's verdict wins.
        state.Apply(new ProviderStatus { Circuit = CircuitState.Closed }, state.TripVersion);
        Assert.Equal(Admission.Allowed, state.Admit(out _));
    }

    [Fact]
    public void TakeReport_CountsSinceLastReport_WithTrailingFailuresAndInFlight()
    {
        var state = Create(threshold: 100);
        state.RecordSuccess(TimeSpan.FromMilliseconds(10));
        state.RecordFailure(false);
        state.RecordSuccess(TimeSpan.FromMilliseconds(30));
        state.RecordFailure(false);
        state.RecordFailure(true);
        state.CallStarted();

        var report = state.TakeReport("silo");

        Assert.Equal(new ProviderHealthReport { SiloId = "silo", Successes = 2, Failures = 2, Timeouts = 1, TotalLatencyMs = 40, TrailingFailures = 2, InFlight = 1 }, report);
        Assert.Equal(new ProviderHealthReport { SiloId = "silo", InFlight = 1 }, state.TakeReport("silo"));
    }
}
