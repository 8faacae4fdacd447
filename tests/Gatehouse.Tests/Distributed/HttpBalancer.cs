using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Distributed;

/// <summary>
/// What a load balancer in front of the silos does: sends each request to the next silo in turn, and stops sending to
/// a silo whose connection was refused or broken until it is marked up again (its health check passing).
/// </summary>
public sealed class HttpBalancer(IEnumerable<ClusterSilo> silos, TimeSpan timeout) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = timeout };
    private readonly object _gate = new();
    private readonly Dictionary<int, string> _up = silos.ToDictionary(s => s.Index, s => s.BaseUrl);
    private int _next;

    public void MarkUp(ClusterSilo silo)
    {
        lock (_gate)
        {
            _up[silo.Index] = silo.BaseUrl;
        }
    }

    public void MarkDown(int index)
    {
        lock (_gate)
        {
            _up.Remove(index);
        }
    }

    /// <summary>Sends one chat request to the next live silo, or to <paramref name="only"/>, and classifies how it ended.</summary>
    public async Task<CallOutcome> SendAsync(string path, string appKey, string model, string prompt, double temperature, int? only = null)
    {
        (int Index, string BaseUrl) target;
        lock (_gate)
        {
            if (only is { } fixedIndex)
            {
                target = (fixedIndex, _up.TryGetValue(fixedIndex, out var url) ? url : throw new InvalidOperationException($"silo {fixedIndex} is down"));
            }
            else
            {
                var live = _up.OrderBy(p => p.Key).ToArray();
                var pick = live[_next++ % live.Length];
                target = (pick.Key, pick.Value);
            }
        }

        var started = DateTimeOffset.UtcNow;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var label = $"{path} via silo {target.Index}";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{target.BaseUrl}/v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"{{model}}","temperature":{{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"messages":[{"role":"user","content":"{{prompt}}"}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", appKey);
        try
        {
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            var kind = status switch
            {
                200 when body.Contains("\"choices\"", StringComparison.Ordinal) => CallKind.Ok,
                429 when body.Contains("\"error\"", StringComparison.Ordinal) => CallKind.Refused,
                503 when body.Contains("\"error\"", StringComparison.Ordinal) => CallKind.FailedClearly,
                _ => CallKind.FailedUnclearly,
            };
            return new CallOutcome(label, started, watch.Elapsed, kind, $"{status} {Truncate(body)}");
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException or IOException || ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded)
        {
            // The silo went away: its connection was refused or broken. A balancer takes it out of rotation.
            MarkDown(target.Index);
            return new CallOutcome(label, started, watch.Elapsed, CallKind.FailedClearly, $"{ex.HttpRequestError}: {ex.Message}");
        }
        catch (TaskCanceledException ex)
        {
            return new CallOutcome(label, started, watch.Elapsed, CallKind.FailedUnclearly, $"no answer within {_http.Timeout}: {ex.Message}");
        }
    }

    public void Dispose() => _http.Dispose();

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];
}
