using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.EndToEnd.Admin;

/// <summary>A small HTTP client for one silo's admin API and chat endpoint, with bounded polling for propagation.</summary>
public sealed class AdminApi(string baseUrl, string adminKey) : IDisposable
{
    /// <summary>What DESIGN.md promises: a change reaches every silo within 5 s.</summary>
    public static readonly TimeSpan Propagation = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };

    public Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null, string? bearer = null) =>
        SendRawAsync(method, path, json, bearer ?? adminKey);

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendRawAsync(HttpMethod method, string path, string? json, string? bearer)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<JsonNode> CreateAppAsync(string json)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/admin/apps", json);
        Assert.True(status == HttpStatusCode.Created, $"POST /admin/apps: {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>Creates a key and returns (id, key).</summary>
    public async Task<(string Id, string Key)> CreateKeyAsync(string appId, string? name = null)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, $"/admin/apps/{appId}/keys", name is null ? null : new JsonObject { ["name"] = name }.ToJsonString());
        Assert.True(status == HttpStatusCode.Created, $"POST keys: {(int)status} {body?.ToJsonString()}");
        return (body!["id"]!.GetValue<string>(), body["key"]!.GetValue<string>());
    }

    public async Task<HttpStatusCode> ChatAsync(string appKey, string model)
    {
        var json = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }),
        }.ToJsonString();
        return (await SendRawAsync(HttpMethod.Post, "/v1/chat/completions", json, appKey)).Status;
    }

    /// <summary>Polls the chat endpoint until it answers <paramref name="expected"/>, failing after <paramref name="within"/>; returns how long it took.</summary>
    public async Task<TimeSpan> ChatUntilAsync(string appKey, string model, HttpStatusCode expected, TimeSpan within)
    {
        var started = TimeProvider.System.GetTimestamp();
        var last = HttpStatusCode.OK;
        while (TimeProvider.System.GetElapsedTime(started) < within)
        {
            last = await ChatAsync(appKey, model);
            if (last == expected)
            {
                return TimeProvider.System.GetElapsedTime(started);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }

        Assert.Fail($"The chat endpoint of {baseUrl} still answered {(int)last}, not {(int)expected}, after {within}.");
        return within;
    }

    /// <summary>
    /// GETs <paramref name="path"/> (200 expected) until <paramref name="done"/> holds for the body, for at most 10 s
    /// (the ledger writes every 250 ms, budget settlements go every second); returns the last body either way.
    /// </summary>
    public async Task<JsonNode> GetUntilAsync(string path, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var (status, body) = await SendAsync(HttpMethod.Get, path);
            Assert.True(status == HttpStatusCode.OK, $"GET {path}: {(int)status} {body?.ToJsonString()}");
            if (done(body!) || DateTime.UtcNow >= deadline)
            {
                return body!;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
    }

    public void Dispose() => _http.Dispose();
}
