using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd.Observability;

/// <summary>
/// One silo logging at Debug through a run that uses every kind of key — app keys (Bearer and <c>x-api-key</c>), a
/// wrong one, the admin key (right and wrong), a key made by the admin API, and a provider key that the upstream
/// double quotes back in its 401 — and its whole output searched for each of them.
/// </summary>
public sealed class LogRedactionEndToEndTests
{
    private const string AppKey = "gk-FAKE-redaction-app-key-0001";
    private const string AdminKey = "admin-FAKE-redaction-key-0002";
    private const string ProviderKey = "sk-FAKE-redaction-provider-key-0003";

    private static readonly string RejectedKey = new JsonObject
    {
        ["error"] = new JsonObject { ["message"] = $"Incorrect API key provided: {ProviderKey}.", ["type"] = "invalid_request_error", ["code"] = "invalid_api_key" },
    }.ToJsonString();

    [Fact]
    public async Task RunUsingEveryKindOfKey_NoKeyAppearsInTheSilosOutput()
    {
        await using var upstream = await OpenAIUpstreamDouble.StartAsync();
        // An upstream that rejects the key and quotes it, as OpenAI does ("Incorrect API key provided: sk-…").
        upstream.Behavior = request => request.Header("Authorization") is { } auth && auth.Contains(ProviderKey)
            ? new UpstreamReply { Status = 401, Body = RejectedKey }
            : null;
        var config = new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Debug", ["Gatehouse"] = "Trace" } },
            ["Gatehouse"] = new JsonObject
            {
                ["AdminKey"] = "env:E2E_REDACTION_ADMIN_KEY",
                ["Providers"] = new JsonObject
                {
                    ["openai"] = new JsonObject { ["Kind"] = "OpenAI", ["BaseUrl"] = upstream.BaseUrl, ["ApiKey"] = "env:E2E_REDACTION_PROVIDER_KEY" },
                    ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["LatencyMs"] = 0 },
                },
                ["Models"] = new JsonObject
                {
                    ["gpt"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "openai", ["Model"] = "gpt-4o-mini" }) },
                    ["sim"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-1" }) },
                },
                ["Apps"] = new JsonObject { ["main"] = new JsonObject { ["Keys"] = new JsonArray(AppKey) } },
            },
        };
        await using var silo = await SiloProcess.StartAsync(config.ToJsonString(), new Dictionary<string, string>
        {
            ["E2E_REDACTION_ADMIN_KEY"] = AdminKey,
            ["E2E_REDACTION_PROVIDER_KEY"] = ProviderKey,
        });
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };

        async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string? json, Action<HttpRequestHeaders> auth)
        {
            using var request = new HttpRequestMessage(method, path);
            auth(request.Headers);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(ProviderKey, body);
            return response.StatusCode;
        }

        const string chat = """{"model":"gpt","messages":[{"role":"user","content":"hello"}]}""";
        const string sim = """{"model":"sim","messages":[{"role":"user","content":"hello"}]}""";
        Assert.Equal(HttpStatusCode.BadGateway, await SendAsync(HttpMethod.Post, "/v1/chat/completions", chat, h => h.Authorization = new("Bearer", AppKey)));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Post, "/v1/chat/completions", sim, h => h.Add("x-api-key", AppKey)));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Post, "/v1/chat/completions", sim, h => h.Authorization = new("Bearer", AppKey + "-wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "/admin/apps", null, h => h.Authorization = new("Bearer", AdminKey + "-wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "/admin/apps", null, h => h.Authorization = new("Bearer", AppKey)));

        using var create = new HttpRequestMessage(HttpMethod.Post, "/admin/apps/main/keys") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        create.Headers.Authorization = new("Bearer", AdminKey);
        using var created = await http.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var newKey = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        HttpStatusCode withNewKey;
        do
        {
            withNewKey = await SendAsync(HttpMethod.Post, "/v1/chat/completions", sim, h => h.Authorization = new("Bearer", newKey));
        }
        while (withNewKey != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, withNewKey);
        Assert.True(upstream.Requests.Count >= 1, "the provider key was never sent upstream");
        var output = silo.Output;
        Assert.Contains("dbug:", output);
        // The upstream's rejection, which quoted the provider key, was logged — without it.
        Assert.Contains("Provider openai failed with HTTP 401", output);
        foreach (var secret in new[] { AppKey, AdminKey, ProviderKey, newKey, ProviderKey["sk-".Length..] })
        {
            Assert.DoesNotContain(secret, output);
        }
    }
}
