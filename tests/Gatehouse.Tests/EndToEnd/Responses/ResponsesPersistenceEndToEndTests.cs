using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Silo.Storage;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.EndToEnd.Responses;

/// <summary>
/// Stored responses on two real silo processes of one AdoNet cluster with PostgreSQL storage: a response made through
/// one silo is a row in PostgreSQL, and is read and continued through the other after the first has stopped.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ResponsesPersistenceEndToEndTests(TestPostgres postgres)
{
    private const string Key = "gk-FAKE-responses-persisted";

    private static readonly string Config = new JsonObject
    {
        ["Gatehouse"] = new JsonObject
        {
            ["Providers"] = new JsonObject { ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["LatencyMs"] = 0 } },
            ["Models"] = new JsonObject { ["sim"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-1" }) } },
            ["Apps"] = new JsonObject { ["main"] = new JsonObject { ["Keys"] = new JsonArray(Key) } },
        },
    }.ToJsonString();

    [Fact]
    public async Task StoredThroughOneSiloProcess_ReadAndContinuedThroughAnotherAfterTheFirstStopped()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        await using var survivor = await StartAsync(database);
        string id;
        await using (var first = await StartAsync(database))
        {
            var made = await PostAsync(first, """{"model":"sim","input":"remember this across silos"}""");
            id = made["id"]!.GetValue<string>();
            await first.StopGracefullyAsync();
        }

        Assert.Equal(1, await Sql.CountAsync(database, "SELECT count(*) FROM orleans_grain_state WHERE grain_type = 'stored_response' AND payload IS NOT NULL"));
        using var http = Client(survivor);
        using var read = await http.GetAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Contains("remember this across silos", await read.Content.ReadAsStringAsync());

        var alone = await PostAsync(survivor, """{"model":"sim","input":"and then?"}""");
        var continued = await PostAsync(survivor, $$"""{"model":"sim","input":"and then?","previous_response_id":"{{id}}"}""");
        Assert.Equal(id, continued["previous_response_id"]!.GetValue<string>());
        // The earlier turn and its answer went upstream too.
        Assert.True(continued["usage"]!["input_tokens"]!.GetValue<int>() > alone["usage"]!["input_tokens"]!.GetValue<int>(), continued.ToJsonString());
    }

    private static async Task<JsonNode> PostAsync(SiloProcess silo, string body)
    {
        using var http = Client(silo);
        using var response = await http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    private static HttpClient Client(SiloProcess silo)
    {
        var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        return http;
    }

    private static Task<SiloProcess> StartAsync(string database) =>
        SiloProcess.StartAsync(Config, new Dictionary<string, string>
        {
            ["Gatehouse__Cluster__Kind"] = "AdoNet",
            ["Gatehouse__Cluster__ConnectionString"] = database,
            ["Gatehouse__Storage__Kind"] = "PostgreSql",
        });
}
