using Gatehouse.Grains;
using Gatehouse.Providers;

namespace Gatehouse.Health;

/// <summary>
/// This silo's view of one upstream: calls in flight here and (as of the last report) elsewhere, a peak-EWMA of its
/// latency, the counters of the next health report, and the circuit state as last learned from the cluster.
/// </summary>
/// <remarks>
/// Thread-safe; read and updated on the request path with interlocked operations only (the latency average takes
/// a short lock). The cluster's <see cref="ProviderGrain"/> is the authority on the circuit; this silo also opens
/// its own view at once after <c>FailureThreshold</c> consecutive local failures, so it stops sending traffic
/// within milliseconds instead of waiting for the next report to come back.
/// </remarks>
public sealed class UpstreamState
{
    /// <summary>How fast the latency average forgets a peak (Linkerd's and Finagle's default decay).</summary>
    private static readonly TimeSpan LatencyDecay = TimeSpan.FromSeconds(10);

    /// <summary>How long a silo waits before asking again after its probe request was refused because another probe is out.</summary>
    private static readonly TimeSpan ProbeRecheck = TimeSpan.FromMilliseconds(250);

    private static readonly CircuitView ClosedView = new(CircuitState.Closed, 0);

    private readonly TimeProvider _timeProvider;
    private readonly int _failureThreshold;
    private readonly TimeSpan _breakDuration;
    private readonly Lock _latencyLock = new();

    private int _inFlight;
    private int _otherSilosInFlight;
    private double _latencyMs;
    private long _latencyAt;

    private long _successes;
    private long _failures;
    private long _timeouts;
    private long _latencyMicroseconds;
    private long _trailingFailures;

    private int _localConsecutiveFailures;
    private int _tripVersion;
    private int _probing;
    private volatile CircuitView _view = ClosedView;

    public UpstreamState(string provider, ProviderOptions options, TimeProvider timeProvider)
    {
        Provider = provider;
        _timeProvider = timeProvider;
        _failureThreshold = Math.Max(1, options.CircuitBreaker.FailureThreshold);
        _breakDuration = TimeSpan.FromSeconds(options.CircuitBreaker.BreakSeconds);
    }

    public string Provider { get; }

    /// <summary>Calls to this upstream in flight on this silo now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Calls in flight across the cluster: the other silos' as of the last report, plus this silo's live count.</summary>
    public int ClusterInFlight => Volatile.Read(ref _otherSilosInFlight) + InFlight;

    /// <summary>The circuit state this silo currently acts on.</summary>
    public CircuitState Circuit => _view.State;

    /// <summary>Whether the target may be called now; when rejected, <paramref name="retryAt"/> is the timestamp at which to look again.</summary>
    public Admission Admit(out long retryAt)
    {
        var view = _view;
        retryAt = 0;
        switch (view.State)
        {
            case CircuitState.Closed:
                return Admission.Allowed;
            case CircuitState.Open when _timeProvider.GetTimestamp() < view.Until:
                retryAt = view.Until;
                return Admission.Rejected;
            default:
                return Admission.Probe;
        }
    }

    /// <summary>Claims the right to ask the provider grain for a probe permit; one request per silo asks at a time.</summary>
    public bool TryBeginProbe() => Interlocked.CompareExchange(ref _probing, 1, 0) == 0;

    public void EndProbe() => Volatile.Write(ref _probing, 0);

    /// <summary>Applies the provider grain's answer to a probe request.</summary>
    public void Apply(ProbePermit permit)
    {
        if (permit.Circuit == CircuitState.Closed)
        {
            _view = ClosedView;
            Volatile.Write(ref _localConsecutiveFailures, 0);
        }
        else if (!permit.Granted)
        {
            var wait = permit.Circuit == CircuitState.Open ? permit.RetryAfter : TimeSpan.FromTicks(Math.Min(permit.RetryAfter.Ticks, ProbeRecheck.Ticks));
            _view = new CircuitView(CircuitState.Open, After(wait));
        }
    }

    /// <summary>Applies the circuit state (and the other silos' load) the provider grain answered a report or a probe result with.</summary>
    /// <param name="status">The grain's answer.</param>
    /// <param name="tripVersion">The <see cref="TripVersion"/> read before the report's counters were taken; null for a probe result.</param>
    public void Apply(ProviderStatus status, int? tripVersion = null)
    {
        Volatile.Write(ref _otherSilosInFlight, status.OtherSilosInFlight);
        switch (status.Circuit)
        {
            // A local trip after the report was taken is not in the grain's verdict yet: it stands until the next report.
            case CircuitState.Closed when tripVersion is { } version && version != Volatile.Read(ref _tripVersion) && _view.State != CircuitState.Closed:
                break;
            case CircuitState.Closed:
                if (_view.State != CircuitState.Closed)
                {
                    Volatile.Write(ref _localConsecutiveFailures, 0);
                }

                _view = ClosedView;
                break;
            case CircuitState.Open:
                _view = new CircuitView(CircuitState.Open, After(status.OpenFor));
                break;
            default:
                if (_view.State != CircuitState.HalfOpen)
                {
                    _view = new CircuitView(CircuitState.HalfOpen, 0);
                }

                break;
        }
    }

    /// <summary>Counts local trips, so a report answer can tell whether it already reflects them.</summary>
    public int TripVersion => Volatile.Read(ref _tripVersion);

    public void CallStarted() => Interlocked.Increment(ref _inFlight);

    public void CallEnded() => Interlocked.Decrement(ref _inFlight);

    /// <summary>The upstream answered: counts a success and feeds the latency average.</summary>
    public void RecordSuccess(TimeSpan latency)
    {
        Interlocked.Increment(ref _successes);
        Interlocked.Add(ref _latencyMicroseconds, (long)(latency.TotalMilliseconds * 1000));
        Interlocked.Exchange(ref _trailingFailures, 0);
        if (Volatile.Read(ref _localConsecutiveFailures) != 0)
        {
            Volatile.Write(ref _localConsecutiveFailures, 0);
        }

        ObserveLatency(latency.TotalMilliseconds);
    }

    /// <summary>The upstream answered, but rejected the request (a 400): it is healthy, so the failure streak ends.</summary>
    public void RecordRejection()
    {
        Interlocked.Exchange(ref _trailingFailures, 0);
        Volatile.Write(ref _localConsecutiveFailures, 0);
    }

    /// <summary>The upstream failed (5xx, timeout, connection, credentials); enough in a row open this silo's view at once.</summary>
    public void RecordFailure(bool timedOut)
    {
        Interlocked.Increment(ref timedOut ? ref _timeouts : ref _failures);
        Interlocked.Increment(ref _trailingFailures);
        if (Interlocked.Increment(ref _localConsecutiveFailures) >= _failureThreshold && _view.State == CircuitState.Closed)
        {
            Interlocked.Increment(ref _tripVersion);
            Volatile.Write(ref _localConsecutiveFailures, 0);
            _view = new CircuitView(CircuitState.Open, After(_breakDuration));
        }
    }

    /// <summary>The cost the <c>Latency</c> strategy minimises: peak-EWMA latency (decayed to now) times (calls in flight + 1).</summary>
    public double LatencyCost()
    {
        double latency;
        long at;
        lock (_latencyLock)
        {
            latency = _latencyMs;
            at = _latencyAt;
        }

        var decayed = latency == 0 ? 0 : latency * Math.Exp(-_timeProvider.GetElapsedTime(at).TotalMilliseconds / LatencyDecay.TotalMilliseconds);
        return decayed * (InFlight + 1);
    }

    /// <summary>Takes the counters since the previous report (the caller puts them back with <see cref="Restore"/> if the report fails).</summary>
    public ProviderHealthReport TakeReport(string siloId) => new()
    {
        SiloId = siloId,
        Successes = Interlocked.Exchange(ref _successes, 0),
        Failures = Interlocked.Exchange(ref _failures, 0),
        Timeouts = Interlocked.Exchange(ref _timeouts, 0),
        TotalLatencyMs = Interlocked.Exchange(ref _latencyMicroseconds, 0) / 1000.0,
        TrailingFailures = Interlocked.Exchange(ref _trailingFailures, 0),
        InFlight = InFlight,
    };

    public void Restore(ProviderHealthReport report)
    {
        Interlocked.Add(ref _successes, report.Successes);
        Interlocked.Add(ref _failures, report.Failures);
        Interlocked.Add(ref _timeouts, report.Timeouts);
        Interlocked.Add(ref _latencyMicroseconds, (long)(report.TotalLatencyMs * 1000));
        Interlocked.Add(ref _trailingFailures, report.TrailingFailures);
    }

    /// <summary>Peak-EWMA (Finagle, Linkerd, YARP's PeakEWMA): a slower sample is taken at once, faster ones are averaged in over time.</summary>
    private void ObserveLatency(double sampleMs)
    {
        var now = _timeProvider.GetTimestamp();
        lock (_latencyLock)
        {
            if (_latencyMs == 0 || sampleMs > _latencyMs)
            {
                _latencyMs = sampleMs;
            }
            else
            {
                var weight = Math.Exp(-_timeProvider.GetElapsedTime(_latencyAt, now).TotalMilliseconds / LatencyDecay.TotalMilliseconds);
                _latencyMs = (_latencyMs * weight) + (sampleMs * (1 - weight));
            }

            _latencyAt = now;
        }
    }

    private long After(TimeSpan delay) => _timeProvider.GetTimestamp() + (long)(delay.TotalSeconds * _timeProvider.TimestampFrequency);

    private sealed record CircuitView(CircuitState State, long Until);
}
