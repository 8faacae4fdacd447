using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Gatehouse.Errors;
using Gatehouse.Health;

namespace Gatehouse.Metrics;

/// <summary>
/// Gatehouse's OpenTelemetry instruments (meter <see cref="MeterName"/>): requests, latency, time to first token,
/// upstream calls, tokens, cost, cache results, fallbacks, refusals by scope, circuit states and calls in flight.
/// </summary>
/// <remarks>
/// Thread-safe singleton. Tags are low-cardinality by construction: app ids and aliases are the configured ones
/// (an unknown alias is <c>other</c>, an unauthenticated caller <c>unknown</c>), providers and upstream models the
/// configured targets, outcomes a fixed set (<c>ok</c> or a <see cref="GatewayError"/> in snake case); never a key
/// or a request id. Names follow OpenTelemetry (<c>gatehouse.requests</c>, unit <c>s</c>), which the Prometheus exporter
/// writes as <c>gatehouse_requests_total</c>, <c>gatehouse_request_duration_seconds</c>.
/// </remarks>
public sealed partial class GatehouseMetrics : IDisposable
{
    public const string MeterName = "Gatehouse";

    public const string Ok = "ok";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Counter<long> _upstreamRequests;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _cacheRequests;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _rateLimited;

    private readonly TimeProvider _timeProvider;

    public GatehouseMetrics(IMeterFactory meterFactory, UpstreamStates upstreams, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _meter = meterFactory.Create(MeterName);
        _requests = _meter.CreateCounter<long>("gatehouse.requests", description: "Requests answered, by app, alias, API and outcome.");
        _requestDuration = _meter.CreateHistogram<double>("gatehouse.request.duration", "s", "Time from a request's arrival to its last byte.");
        _timeToFirstToken = _meter.CreateHistogram<double>("gatehouse.time_to_first_token", "s", "Time from a streamed request's arrival to its first chunk.");
        _upstreamRequests = _meter.CreateCounter<long>("gatehouse.upstream.requests", description: "Calls to upstreams (every attempt), by provider, model and outcome.");
        _upstreamDuration = _meter.CreateHistogram<double>("gatehouse.upstream.duration", "s", "Duration of each upstream call.");
        _tokens = _meter.CreateCounter<long>("gatehouse.tokens", description: "Tokens billed by upstreams, by app, alias and type (prompt or completion).");
        _cost = _meter.CreateCounter<double>("gatehouse.cost_usd", description: "USD billed by upstreams, priced as the usage ledger prices them.");
        _cacheRequests = _meter.CreateCounter<long>("gatehouse.cache.requests", description: "Requests by cache result: hit, miss, shared or bypass.");
        _fallbacks = _meter.CreateCounter<long>("gatehouse.fallbacks", description: "Requests answered by a fallback alias after their own targets failed.");
        _rateLimited = _meter.CreateCounter<long>("gatehouse.rate_limited", description: "Refusals by scope: app quota, upstream bucket, or budget.");
        _meter.CreateObservableGauge("gatehouse.circuit_state",
            () => upstreams.All.Select(u => new Measurement<int>((int)u.Circuit, new KeyValuePair<string, object?>("provider", u.Provider))),
            description: "Each upstream's circuit as this silo sees it: 0 closed, 1 open, 2 half-open.");
        _meter.CreateObservableGauge("gatehouse.upstream.in_flight",
            () => upstreams.All.Select(u => new Measurement<int>(u.InFlight, new KeyValuePair<string, object?>("provider", u.Provider))),
            description: "Upstream calls under way on this silo.");
    }

    /// <summary>Starts measuring a caller's request on <paramref name="api"/> (<c>chat_completions</c>, <c>messages</c>, <c>grain</c>).</summary>
    public MeteredRequest Start(string api) => new(this, api, _timeProvider);

    public void Request(string app, string alias, string api, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "app", app }, { "alias", alias }, { "api", api }, { "outcome", outcome } };
        _requests.Add(1, tags);
        _requestDuration.Record(duration.TotalSeconds, tags);
    }

    public void FirstToken(string app, string alias, string api, TimeSpan elapsed) =>
        _timeToFirstToken.Record(elapsed.TotalSeconds, new TagList { { "app", app }, { "alias", alias }, { "api", api } });

    /// <summary>One upstream attempt and, when it billed any, its tokens and cost.</summary>
    public void Upstream(string app, string alias, string provider, string model, string outcome, TimeSpan duration, int promptTokens, int completionTokens, decimal costUsd)
    {
        var tags = new TagList { { "provider", provider }, { "model", model }, { "outcome", outcome } };
        _upstreamRequests.Add(1, tags);
        _upstreamDuration.Record(duration.TotalSeconds, tags);
        if (promptTokens > 0)
        {
            _tokens.Add(promptTokens, new TagList { { "app", app }, { "alias", alias }, { "type", "prompt" } });
        }

        if (completionTokens > 0)
        {
            _tokens.Add(completionTokens, new TagList { { "app", app }, { "alias", alias }, { "type", "completion" } });
        }

        if (costUsd > 0)
        {
            _cost.Add((double)costUsd, new TagList { { "app", app }, { "alias", alias } });
        }
    }

    public void CacheResult(string app, string result) => _cacheRequests.Add(1, new TagList { { "app", app }, { "result", result } });

    public void Fallback(string alias) => _fallbacks.Add(1, new KeyValuePair<string, object?>("alias", alias));

    /// <summary>A refusal: <paramref name="scope"/> is <c>app</c>, <c>upstream</c> or <c>budget</c>.</summary>
    public void RateLimited(string scope) => _rateLimited.Add(1, new KeyValuePair<string, object?>("scope", scope));

    /// <summary>The outcome tag of a failure: the error's name in snake case (<c>rate_limited</c>, <c>upstream_failed</c>).</summary>
    public static string Outcome(GatewayError error) => OutcomeNames.TryGetValue(error, out var name) ? name : "error";

    public void Dispose() => _meter.Dispose();

    private static readonly FrozenDictionary<GatewayError, string> OutcomeNames = Enum.GetValues<GatewayError>()
        .ToFrozenDictionary(e => e, e => e == GatewayError.None ? Ok : SnakeCase().Replace(e.ToString(), "_$1").ToLowerInvariant());

    [GeneratedRegex("(?<=[a-z])([A-Z])")]
    private static partial Regex SnakeCase();
}
