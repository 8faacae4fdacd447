using System.Net;
using Gatehouse.Silo.Storage;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.EndToEnd.Admin;

/// <summary>Apps and keys made through the admin API on real silo processes of one AdoNet cluster with PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminPersistenceEndToEndTests(TestPostgres postgres)
{
    [Fact]
    public async Task Restart_SameDatabase_ApiAppAndKeyStillWork()
    {
        var database = await NewDatabaseAsync();
        string key;
        string keyId;
        string firstOutput;
        (int?, int?, int?) ports;
        await using (var first = await StartAsync(database))
        {
            using var api = new AdminApi(first.BaseUrl, AdminApiFixture.AdminKey);
            await api.CreateAppAsync("""{"id":"kept","models":["chat"],"requestsPerMinute":100}""");
            (keyId, key) = await api.CreateKeyAsync("kept", "survives");
            await api.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);
            ports = (new Uri(first.BaseUrl).Port, first.SiloPort, first.GatewayPort);
            firstOutput = first.Output;
        }

        // The same ports: the new process is the next generation of the same silo, as a restarted container would be.
        await using var second = await StartAsync(database, ports);
        using var again = new AdminApi(second.BaseUrl, AdminApiFixture.AdminKey);

        using (var ready = await new HttpClient().GetAsync(second.BaseUrl + "/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await again.ChatAsync(key, "chat"));
        Assert.Equal(HttpStatusCode.Forbidden, await again.ChatAsync(key, "other"));
        var (status, keys) = await again.SendAsync(HttpMethod.Get, "/admin/apps/kept/keys");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(keyId, Assert.Single(keys!["data"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, await again.ChatAsync(AdminApiFixture.ConfiguredKey, "chat"));
        AdminApiEndToEndTests.AssertNoSecretsIn(firstOutput + second.Output, key, AdminApiFixture.ConfiguredKey);
    }

    [Fact]
    public async Task Restart_AppRemovedFromFile_ConfigKeyIs401AndApiKeyStillWorks()
    {
        var database = await NewDatabaseAsync();
        string key;
        (int?, int?, int?) ports;
        await using (var first = await StartAsync(database))
        {
            using var api = new AdminApi(first.BaseUrl, AdminApiFixture.AdminKey);
            (_, key) = await api.CreateKeyAsync("configured");
            await api.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);
            Assert.Equal(HttpStatusCode.OK, await api.ChatAsync(AdminApiFixture.ConfiguredKey, "chat"));
            ports = (new Uri(first.BaseUrl).Port, first.SiloPort, first.GatewayPort);
        }

        await using var second = await StartAsync(database, ports, withConfiguredApp: false);
        using var again = new AdminApi(second.BaseUrl, AdminApiFixture.AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, await again.ChatAsync(AdminApiFixture.ConfiguredKey, "chat"));
        Assert.Equal(HttpStatusCode.OK, await again.ChatAsync(key, "chat"));
        var (status, app) = await again.SendAsync(HttpMethod.Get, "/admin/apps/configured");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("api", app!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoSilos_RevokeOnA_KeyIs401OnBWithin5Seconds()
    {
        var database = await NewDatabaseAsync();
        await using var a = await StartAsync(database);
        await using var b = await StartAsync(database);
        using var apiA = new AdminApi(a.BaseUrl, AdminApiFixture.AdminKey);
        using var apiB = new AdminApi(b.BaseUrl, AdminApiFixture.AdminKey);

        await apiA.CreateAppAsync("""{"id":"shared"}""");
        var (keyId, key) = await apiA.CreateKeyAsync("shared");
        await apiB.ChatUntilAsync(key, "chat", HttpStatusCode.OK, AdminApi.Propagation);

        var (status, _) = await apiA.SendAsync(HttpMethod.Delete, $"/admin/apps/shared/keys/{keyId}");
        Assert.Equal(HttpStatusCode.NoContent, status);
        var took = await apiB.ChatUntilAsync(key, "chat", HttpStatusCode.Unauthorized, AdminApi.Propagation);

        Console.WriteLine($"Revocation reached the other silo in {took.TotalMilliseconds:0} ms.");
        AdminApiEndToEndTests.AssertNoSecretsIn(a.Output + b.Output, key, AdminApiFixture.ConfiguredKey);
    }

    private async Task<string> NewDatabaseAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        return database;
    }

    private static Task<SiloProcess> StartAsync(string database, (int?, int?, int?) ports = default, bool withConfiguredApp = true) =>
        SiloProcess.StartAsync(AdminApiFixture.Config(withConfiguredApp: withConfiguredApp), new Dictionary<string, string>
        {
            ["E2E_ADMIN_KEY"] = AdminApiFixture.AdminKey,
            ["Gatehouse__Cluster__Kind"] = "AdoNet",
            ["Gatehouse__Cluster__ConnectionString"] = database,
            ["Gatehouse__Storage__Kind"] = "PostgreSql",
        }, ports);
}
