using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Gatehouse.Tests.EndToEnd.Observability;

/// <summary>The Orleans Dashboard a silo serves under <c>/dashboard</c> when it is switched on: only for the admin key.</summary>
public sealed class DashboardEndToEndTests
{
    private const string AdminKey = "admin-dashboard-FAKE-key";
    private const string AppKey = "gk-dashboard-FAKE-app";

    private static string Config(bool enabled, bool withAdminKey = true) => $$"""
    {
      "Gatehouse": {
        "Providers": { "sim": { "Kind": "Simulated", "LatencyMs": 0 } },
        "Models": { "sim": { "Targets": [ { "Provider": "sim", "Model": "sim-1" } ] } },
        "Apps": { "a": { "Keys": [ "{{AppKey}}" ] } },
        {{(withAdminKey ? $"\"AdminKey\": \"{AdminKey}\"," : "")}}
        "Dashboard": { "Enabled": {{(enabled ? "true" : "false")}} }
      }
    }
    """;

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        return await http.SendAsync(request);
    }

    private static AuthenticationHeaderValue Basic(string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{password}")));

    [Fact]
    public async Task Enabled_AdminKeyAsBasicPasswordOrBearer_Serves_AnythingElseIs401AskingForIt()
    {
        await using var silo = await SiloProcess.StartAsync(Config(enabled: true));
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };

        foreach (var refused in new AuthenticationHeaderValue?[] { null, new("Bearer", AppKey), Basic(AppKey), Basic(AdminKey + "x"), new("Basic", "not base64!") })
        {
            using var response = await GetAsync(http, "/dashboard/", refused);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        }

        using var page = await GetAsync(http, "/dashboard/", Basic(AdminKey));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Orleans", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using var counters = await GetAsync(http, "/dashboard/DashboardCounters", new AuthenticationHeaderValue("Bearer", AdminKey));
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.DoesNotContain(AdminKey, silo.Output);
    }

    [Fact]
    public async Task Disabled_ByDefault_NotServed()
    {
        await using var silo = await SiloProcess.StartAsync(Config(enabled: false));
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };

        using var response = await GetAsync(http, "/dashboard/", Basic(AdminKey));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Enabled_WithoutAdminKey_RefusedAtStartNamingBothKeys()
    {
        var error = await Assert.ThrowsAsync<SiloExitedException>(() => SiloProcess.StartAsync(Config(enabled: true, withAdminKey: false)));

        Assert.Equal(1, error.ExitCode);
        Assert.Contains("Gatehouse:Dashboard:Enabled is true but Gatehouse:AdminKey is not set", error.Output);
    }
}
