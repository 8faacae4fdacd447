using System.Net;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.EndToEnd.Admin;

public sealed class AdminApiEndToEndTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private AdminApi Api => fixture.Api;

    [Fact]
    public async Task CreateAppAndKey_KeyWorksOnChatCompletions_AndListingShowsNoSecret()
    {
        var app = await Api.CreateAppAsync("""{"id":"e2e-create","models":["chat"],"requestsPerMinute":100,"priority":"High","budgetUsdPerDay":5}""");
        var (keyId, key) = await Api.CreateKeyAsync("e2e-create", "ci");

        Assert.Equal("e2e-create", app["id"]!.GetValue<string>());
        Assert.Equal("High", app["priority"]!.GetValue<string>());
        Assert.Equal("api", app["source"]!.GetValue<string>());
        Assert.StartsWith("gk-", key);
        Assert.True(key.Length >= 35, key.Length.ToString());
        await Api.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);

        var (status, keys) = await Api.SendAsync(HttpMethod.Get, "/admin/apps/e2e-create/keys");
        Assert.Equal(HttpStatusCode.OK, status);
        var listed = Assert.Single(keys!["data"]!.AsArray())!;
        Assert.Equal(["createdAt", "id", "name", "prefix"], listed.AsObject().Select(p => p.Key).Order());
        Assert.Equal(keyId, listed["id"]!.GetValue<string>());
        Assert.Equal(key[..7], listed["prefix"]!.GetValue<string>());
        Assert.DoesNotContain(key, keys.ToJsonString());
        Assert.DoesNotContain(Gatehouse.Apps.AppKeyHasher.Hash(key), keys.ToJsonString());
        AssertNoSecretsIn(fixture.Silo.Output, key);
    }

    [Fact]
    public async Task RevokeKey_Within5Seconds_KeyIs401()
    {
        await Api.CreateAppAsync("""{"id":"e2e-revoke"}""");
        var (keyId, key) = await Api.CreateKeyAsync("e2e-revoke");
        await Api.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);

        var (status, _) = await Api.SendAsync(HttpMethod.Delete, $"/admin/apps/e2e-revoke/keys/{keyId}");
        Assert.Equal(HttpStatusCode.NoContent, status);
        await Api.ChatUntilAsync(key, "chat", HttpStatusCode.Unauthorized, AdminApi.Propagation);

        Assert.Equal(HttpStatusCode.NotFound, (await Api.SendAsync(HttpMethod.Delete, $"/admin/apps/e2e-revoke/keys/{keyId}")).Status);
        AssertNoSecretsIn(fixture.Silo.Output, key);
    }

    [Fact]
    public async Task AdminRoutes_AppKeyOrNoKeyOrWrongKey_Are401InOpenAIsEnvelope()
    {
        foreach (var bearer in new[] { AdminApiFixture.ConfiguredKey, "wrong-FAKE-admin-key", AdminApiFixture.AdminKey + "x" })
        {
            var (status, body) = await Api.SendRawAsync(HttpMethod.Get, "/admin/apps", null, bearer);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("invalid_request_error", body!["error"]!["type"]!.GetValue<string>());
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.SendRawAsync(HttpMethod.Get, "/admin/apps", null, null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.SendRawAsync(HttpMethod.Post, "/admin/apps", """{"id":"sneaky"}""", AdminApiFixture.ConfiguredKey)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.SendAsync(HttpMethod.Get, "/admin/apps/sneaky")).Status);
    }

    [Fact]
    public async Task ModelOutsideAllowlist_Is403_UntilPatchAllowsIt()
    {
        await Api.CreateAppAsync("""{"id":"e2e-allow","models":["chat"]}""");
        var (_, key) = await Api.CreateKeyAsync("e2e-allow");
        await Api.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);

        Assert.Equal(HttpStatusCode.Forbidden, await Api.ChatAsync(key, "other"));

        var (status, app) = await Api.SendAsync(HttpMethod.Patch, "/admin/apps/e2e-allow", """{"models":["chat","other"],"requestsPerMinute":50}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(50, app!["requestsPerMinute"]!.GetValue<int>());
        await Api.ChatUntilAsync(key, "other", HttpStatusCode.OK, AdminApi.Propagation);
    }

    [Theory]
    [InlineData("""{"id":"e2e-bad","color":"red"}""", "color")]
    [InlineData("""{"id":"e2e-bad","requestsPerMinute":"ten"}""", "requestsPerMinute")]
    [InlineData("""{"id":"e2e-bad","requestsPerMinute":0}""", "requestsPerMinute")]
    [InlineData("""{"id":"e2e-bad","models":["nope"]}""", "models[0]")]
    [InlineData("""{"id":"e2e-bad","cacheAllRequests":1}""", "cacheAllRequests")]
    [InlineData("""{"id":"e2e-bad","priority":"Urgent"}""", "priority")]
    [InlineData("""{"id":"e2e-bad","burst":5}""", "burst")]
    [InlineData("""{"id":"e2e bad"}""", "id")]
    [InlineData("""{"models":[]}""", "id")]
    public async Task CreateApp_BadField_Is400NamingIt(string json, string field)
    {
        var (status, body) = await Api.SendAsync(HttpMethod.Post, "/admin/apps", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, body!["error"]!["param"]!.GetValue<string>());
        Assert.Contains(field, body["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchApp_UnknownField_Is400NamingIt()
    {
        await Api.CreateAppAsync("""{"id":"e2e-patch-bad"}""");

        var (status, body) = await Api.SendAsync(HttpMethod.Patch, "/admin/apps/e2e-patch-bad", """{"id":"renamed"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("id", body!["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateApp_DuplicateId_Is409()
    {
        await Api.CreateAppAsync("""{"id":"e2e-dup"}""");

        Assert.Equal(HttpStatusCode.Conflict, (await Api.SendAsync(HttpMethod.Post, "/admin/apps", """{"id":"e2e-dup"}""")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Api.SendAsync(HttpMethod.Post, "/admin/apps", """{"id":"configured"}""")).Status);
    }

    [Fact]
    public async Task UnknownApp_EveryRoute_Is404()
    {
        foreach (var (method, path, json) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Get, "/admin/apps/e2e-missing", null),
            (HttpMethod.Patch, "/admin/apps/e2e-missing", "{}"),
            (HttpMethod.Delete, "/admin/apps/e2e-missing", null),
            (HttpMethod.Post, "/admin/apps/e2e-missing/keys", null),
            (HttpMethod.Get, "/admin/apps/e2e-missing/keys", null),
            (HttpMethod.Delete, "/admin/apps/e2e-missing/keys/key_x", null),
            (HttpMethod.Get, "/admin/apps/e2e-missing/spend", null),
        })
        {
            var (status, body) = await Api.SendAsync(method, path, json);
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path}: {(int)status}");
            Assert.NotNull(body!["error"]);
        }
    }

    [Fact]
    public async Task ListApps_ShowsConfigAndApiApps_DeleteRemovesOne()
    {
        await Api.CreateAppAsync("""{"id":"e2e-list"}""");
        var (_, key) = await Api.CreateKeyAsync("e2e-list");

        var (status, list) = await Api.SendAsync(HttpMethod.Get, "/admin/apps");
        Assert.Equal(HttpStatusCode.OK, status);
        var ids = list!["data"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("configured", ids);
        Assert.Contains("e2e-list", ids);
        Assert.Equal("config", list["data"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == "configured")!["source"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await Api.SendAsync(HttpMethod.Delete, "/admin/apps/e2e-list")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.SendAsync(HttpMethod.Get, "/admin/apps/e2e-list")).Status);
        await Api.ChatUntilAsync(key, "chat", HttpStatusCode.Unauthorized, AdminApi.Propagation);
    }

    [Fact]
    public async Task Usage_AfterThreeAnswers_GroupedByAppAsJsonAndCsv_BadParametersAre400()
    {
        await Api.CreateAppAsync("""{"id":"e2e-usage","models":["chat"]}""");
        var (_, key) = await Api.CreateKeyAsync("e2e-usage");
        await Api.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);
        Assert.Equal(HttpStatusCode.OK, await Api.ChatAsync(key, "chat"));
        Assert.Equal(HttpStatusCode.OK, await Api.ChatAsync(key, "chat"));

        // Records reach the ledger in batches (every 250 ms): poll until all three are there.
        var usage = await Api.GetUntilAsync("/admin/usage?app=e2e-usage&groupBy=app,alias",
            body => body["data"]!.AsArray().SingleOrDefault()?["requests"]?.GetValue<long>() == 3);
        var row = usage["data"]!.AsArray().SingleOrDefault();

        Assert.NotNull(row);
        Assert.Equal(["alias", "app", "cacheHits", "completionTokens", "costUsd", "promptTokens", "requests", "savedUsd", "upstreamCalls"],
            row.AsObject().Select(p => p.Key).Order());
        Assert.Equal(("e2e-usage", "chat", 3L, 3L, 0L), (row["app"]!.GetValue<string>(), row["alias"]!.GetValue<string>(),
            row["requests"]!.GetValue<long>(), row["upstreamCalls"]!.GetValue<long>(), row["cacheHits"]!.GetValue<long>()));
        Assert.True(row["promptTokens"]!.GetValue<long>() > 0);

        using var http = new HttpClient { BaseAddress = new Uri(fixture.Silo.BaseUrl) };
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, "/admin/usage?app=e2e-usage&groupBy=app");
        csvRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminApiFixture.AdminKey);
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        using var csv = await http.SendAsync(csvRequest);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("app,requests,upstreamCalls,cacheHits", lines[0]);
        Assert.StartsWith("e2e-usage,3,3,0,", lines[1]);

        foreach (var (query, param) in new[] { ("groupBy=model", "groupBy"), ("from=yesterday", "from"), ("user=me", "user") })
        {
            var (status, body) = await Api.SendAsync(HttpMethod.Get, $"/admin/usage?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(param, body!["error"]!["param"]!.GetValue<string>());
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.SendRawAsync(HttpMethod.Get, "/admin/usage", null, key)).Status);
    }

    [Fact]
    public async Task Budget_SpentByTheFirstAnswer_Is429InsufficientQuota_SpendShowsIt_RaisingItServesAgain()
    {
        await Api.CreateAppAsync("""{"id":"e2e-budget","models":["priced"],"budgetUsdPerDay":1}""");
        var (_, key) = await Api.CreateKeyAsync("e2e-budget");
        await Api.ChatUntilAsync(key, "priced", HttpStatusCode.OK, AdminApi.Propagation);

        var chat = new JsonObject
        {
            ["model"] = "priced",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }),
        }.ToJsonString();
        var (refusedStatus, refused) = await Api.SendRawAsync(HttpMethod.Post, "/v1/chat/completions", chat, key);

        Assert.Equal(HttpStatusCode.TooManyRequests, refusedStatus);
        Assert.Equal(("insufficient_quota", "insufficient_quota"), (refused!["error"]!["type"]!.GetValue<string>(), refused["error"]!["code"]!.GetValue<string>()));
        Assert.Contains("$1 per day", refused["error"]!["message"]!.GetValue<string>());

        // Settlements reach the authority every second and idle money goes back after two: poll until nothing is reserved.
        var spend = await Api.GetUntilAsync("/admin/apps/e2e-budget/spend",
            body => body["reservedUsd"]!.GetValue<decimal>() == 0 && body["spentUsd"]!.GetValue<decimal>() > 0);

        Assert.Equal(["budgetUsd", "period", "reservedUsd", "resetsAt", "spentUsd"], spend.AsObject().Select(p => p.Key).Order());
        Assert.Equal(("day", 1m, 0m), (spend["period"]!.GetValue<string>(), spend["budgetUsd"]!.GetValue<decimal>(), spend["reservedUsd"]!.GetValue<decimal>()));
        Assert.Equal(DateTime.UtcNow.Date.AddDays(1), DateTime.Parse(spend["resetsAt"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal));
        // The ledger writes every 250 ms: poll until the answer's record is there.
        var ledger = await Api.GetUntilAsync("/admin/usage?app=e2e-budget", body => body["data"]!.AsArray().Count == 1);
        var ledgerCost = ledger["data"]![0]?["costUsd"]?.GetValue<decimal>();

        Assert.Equal(ledgerCost, spend["spentUsd"]!.GetValue<decimal>());
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.SendAsync(HttpMethod.Get, "/admin/apps/e2e-budget/spend?period=week")).Status);

        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(HttpMethod.Patch, "/admin/apps/e2e-budget", """{"budgetUsdPerDay":1000000}""")).Status);
        await Api.ChatUntilAsync(key, "priced", HttpStatusCode.OK, AdminApi.Propagation);
    }

    [Fact]
    public async Task Spend_AppWithoutBudget_IsTheLedgersCostForTheMonthWithNoBudgetAndNothingReserved()
    {
        await Api.CreateAppAsync("""{"id":"e2e-unbudgeted","models":["priced"]}""");
        var (_, key) = await Api.CreateKeyAsync("e2e-unbudgeted");
        await Api.ChatUntilAsync(key, "priced", HttpStatusCode.OK, AdminApi.Propagation);

        var spend = await Api.GetUntilAsync("/admin/apps/e2e-unbudgeted/spend", body => body["spentUsd"]!.GetValue<decimal>() > 0);

        var (_, usage) = await Api.SendAsync(HttpMethod.Get, "/admin/usage?app=e2e-unbudgeted");
        Assert.Equal("month", spend["period"]!.GetValue<string>());
        Assert.Null(spend["budgetUsd"]);
        Assert.Equal((usage!["data"]![0]!["costUsd"]!.GetValue<decimal>(), 0m), (spend["spentUsd"]!.GetValue<decimal>(), spend["reservedUsd"]!.GetValue<decimal>()));
        var firstOfNextMonth = new DateTime(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        Assert.Equal(firstOfNextMonth, DateTime.Parse(spend["resetsAt"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal));
    }

    [Fact]
    public async Task AdminApi_NoAdminKeyConfigured_Is404()
    {
        await using var silo = await SiloProcess.StartAsync(AdminApiFixture.Config(adminKeyReference: null));
        using var api = new AdminApi(silo.BaseUrl, AdminApiFixture.AdminKey);

        var (status, body) = await api.SendAsync(HttpMethod.Get, "/admin/apps");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.NotNull(body!["error"]);
        Assert.Equal(HttpStatusCode.OK, await api.ChatAsync(AdminApiFixture.ConfiguredKey, "chat"));
    }

    internal static void AssertNoSecretsIn(string output, params string[] keys)
    {
        Assert.DoesNotContain(AdminApiFixture.AdminKey, output);
        foreach (var key in keys)
        {
            Assert.DoesNotContain(key, output);
        }
    }
}
