using Gatehouse.Grains;
using Gatehouse.Health;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Health;

public sealed class CircuitBreakerTests
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(int threshold = 3) => new(threshold, Break, Lease, _time);

    [Fact]
    public void Record_FailuresBelowThreshold_StaysClosed()
    {
        var circuit = Create();

        circuit.Record(successes: 0, failures: 2, trailingFailures: 2);

        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.Equal(2, circuit.ConsecutiveFailures);
    }

    [Fact]
    public void Record_ConsecutiveFailuresAcrossReportsReachThreshold_Opens()
    {
        var circuit = Create();

        circuit.Record(0, 2, 2);
        circuit.Record(0, 1, 1);

        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(Break, circuit.OpenFor);
    }

    [Fact]
    public void Record_SuccessInBatch_RestartsCountAtTrailingFailures()
    {
        var circuit = Create();
        circuit.Record(0, 2, 2);

        // 5 failures and a success, ending with 1 failure: only the trailing one counts.
        circuit.Record(successes: 1, failures: 5, trailingFailures: 1);

        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.Equal(1, circuit.ConsecutiveFailures);
    }

    [Fact]
    public void TryAcquireProbe_DuringBreak_IsRefusedWithTimeLeft()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(TimeSpan.FromSeconds(4));

        var permit = circuit.TryAcquireProbe("silo-a");

        Assert.False(permit.Granted);
        Assert.Equal(CircuitState.Open, permit.Circuit);
        Assert.Equal(TimeSpan.FromSeconds(6), permit.RetryAfter);
    }

    [Fact]
    public void TryAcquireProbe_Closed_GrantsEveryCallerWithoutAProbe()
    {
        var circuit = Create();

        Assert.Equal(new ProbePermit { Granted = true, Circuit = CircuitState.Closed }, circuit.TryAcquireProbe("a"));
        Assert.Equal(new ProbePermit { Granted = true, Circuit = CircuitState.Closed }, circuit.TryAcquireProbe("b"));
    }

    [Fact]
    public void TryAcquireProbe_HalfOpen_GrantsExactlyOneProbe()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(Break);

        var first = circuit.TryAcquireProbe("silo-a");
        var second = circuit.TryAcquireProbe("silo-b");
        var third = circuit.TryAcquireProbe("silo-a");

        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        Assert.True(first.Granted);
        Assert.False(second.Granted);
        Assert.False(third.Granted);
        Assert.Equal(Lease, second.RetryAfter);
    }

    [Fact]
    public void OnProbeResult_Success_Closes()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(Break);
        circuit.TryAcquireProbe("silo-a");

        circuit.OnProbeResult("silo-a", succeeded: true);

        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.Equal(0, circuit.ConsecutiveFailures);
        Assert.True(circuit.TryAcquireProbe("silo-b").Granted);
    }

    [Fact]
    public void OnProbeResult_Failure_ReopensForAnotherBreak()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(Break);
        circuit.TryAcquireProbe("silo-a");

        circuit.OnProbeResult("silo-a", succeeded: false);

        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(Break, circuit.OpenFor);
        Assert.False(circuit.TryAcquireProbe("silo-b").Granted);

        _time.Advance(Break);
        Assert.True(circuit.TryAcquireProbe("silo-b").Granted);
    }

    [Fact]
    public void OnProbeResult_FromSomeoneElse_IsIgnored()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(Break);
        circuit.TryAcquireProbe("silo-a");

        circuit.OnProbeResult("silo-b", succeeded: true);

        Assert.Equal(CircuitState.HalfOpen, circuit.State);
    }

    [Fact]
    public void TryAcquireProbe_HolderNeverReports_LeaseLapsesAndAnotherMayProbe()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(Break);
        Assert.True(circuit.TryAcquireProbe("silo-a").Granted);

        _time.Advance(Lease - TimeSpan.FromTicks(1));
        Assert.False(circuit.TryAcquireProbe("silo-b").Granted);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(circuit.TryAcquireProbe("silo-b").Granted);
    }

    [Fact]
    public void ReleaseProbe_ByHolder_LetsTheNextCallerProbeAtOnce()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        _time.Advance(Break);
        circuit.TryAcquireProbe("silo-a");

        circuit.ReleaseProbe("silo-b");
        Assert.False(circuit.TryAcquireProbe("silo-b").Granted);

        circuit.ReleaseProbe("silo-a");
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        Assert.True(circuit.TryAcquireProbe("silo-b").Granted);
    }

    [Fact]
    public void Record_WhileOpenOrHalfOpen_DoesNotMoveTheCircuit()
    {
        var circuit = Create();
        circuit.Record(0, 3, 3);
        circuit.Record(successes: 10, failures: 0, trailingFailures: 0);
        Assert.Equal(CircuitState.Open, circuit.State);

        _time.Advance(Break);
        circuit.Record(successes: 10, failures: 0, trailingFailures: 0);
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
    }
}
