using Gatehouse.Grains;

namespace Gatehouse.Health;

/// <summary>
/// The cluster-wide circuit of one upstream, held by its <see cref="ProviderGrain"/>: opens after
/// <c>FailureThreshold</c> consecutive failures, stays open for <c>BreakSeconds</c>, then lets exactly one probe
/// through at a time; the probe's success closes it, its failure opens it again.
/// </summary>
/// <remarks>
/// Not thread-safe: the grain's single-threaded turns serialize every call. Time is read from the injected
/// <see cref="TimeProvider"/> lazily (open becomes half-open on the first read after the break), so no timer runs.
/// A probe permit is a lease: if its holder never reports (its silo died), another caller may probe once it lapses.
/// </remarks>
internal sealed class CircuitBreaker(int failureThreshold, TimeSpan breakDuration, TimeSpan probeLease, TimeProvider timeProvider)
{
    private CircuitState _state = CircuitState.Closed;
    private long _consecutiveFailures;
    private long _openUntil;
    private string? _probeHolder;
    private long _probeLeaseUntil;

    public CircuitState State
    {
        get
        {
            if (_state == CircuitState.Open && timeProvider.GetTimestamp() >= _openUntil)
            {
                _state = CircuitState.HalfOpen;
                _probeHolder = null;
            }

            return _state;
        }
    }

    public long ConsecutiveFailures => _consecutiveFailures;

    /// <summary>For an open circuit, the time left until the break ends; zero otherwise.</summary>
    public TimeSpan OpenFor => State == CircuitState.Open ? Remaining(_openUntil) : TimeSpan.Zero;

    /// <summary>
    /// Counts a batch of ordinary calls. While closed, a batch with a success restarts the count at its trailing
    /// failures; a batch of failures only adds to it. While open or half-open only the probe decides, so reports of
    /// calls that were already in flight when the circuit opened do not move it.
    /// </summary>
    public void Record(long successes, long failures, long trailingFailures)
    {
        if (State != CircuitState.Closed)
        {
            return;
        }

        _consecutiveFailures = successes > 0 ? trailingFailures : _consecutiveFailures + failures;
        if (_consecutiveFailures >= failureThreshold)
        {
            Open();
        }
    }

    /// <summary>Grants the probe of a half-open circuit to one caller; a closed circuit grants every caller.</summary>
    public ProbePermit TryAcquireProbe(string holder)
    {
        var now = timeProvider.GetTimestamp();
        switch (State)
        {
            case CircuitState.Closed:
                return new ProbePermit { Granted = true, Circuit = CircuitState.Closed };
            case CircuitState.Open:
                return new ProbePermit { Circuit = CircuitState.Open, RetryAfter = Remaining(_openUntil) };
            default:
                if (_probeHolder is not null && now < _probeLeaseUntil)
                {
                    return new ProbePermit { Circuit = CircuitState.HalfOpen, RetryAfter = Remaining(_probeLeaseUntil) };
                }

                _probeHolder = holder;
                _probeLeaseUntil = now + (long)(probeLease.TotalSeconds * timeProvider.TimestampFrequency);
                return new ProbePermit { Granted = true, Circuit = CircuitState.HalfOpen };
        }
    }

    /// <summary>The outcome of a probe: success closes the circuit, failure opens it for another break.</summary>
    /// <remarks>Only the current holder's report counts: a late report from a lapsed lease must not undo a newer probe's verdict.</remarks>
    public void OnProbeResult(string holder, bool succeeded)
    {
        if (State != CircuitState.HalfOpen || !string.Equals(_probeHolder, holder, StringComparison.Ordinal))
        {
            return;
        }

        _probeHolder = null;
        if (succeeded)
        {
            _state = CircuitState.Closed;
            _consecutiveFailures = 0;
        }
        else
        {
            Open();
        }
    }

    /// <summary>The holder gives its permit back without a verdict (its request was cancelled): the circuit stays half-open for the next prober.</summary>
    public void ReleaseProbe(string holder)
    {
        if (State == CircuitState.HalfOpen && string.Equals(_probeHolder, holder, StringComparison.Ordinal))
        {
            _probeHolder = null;
        }
    }

    private void Open()
    {
        _state = CircuitState.Open;
        _openUntil = timeProvider.GetTimestamp() + (long)(breakDuration.TotalSeconds * timeProvider.TimestampFrequency);
        _consecutiveFailures = 0;
        _probeHolder = null;
    }

    private TimeSpan Remaining(long until)
    {
        var now = timeProvider.GetTimestamp();
        return until > now ? timeProvider.GetElapsedTime(now, until) : TimeSpan.Zero;
    }
}
