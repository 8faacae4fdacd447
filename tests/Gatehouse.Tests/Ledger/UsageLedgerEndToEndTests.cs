using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Silo.Storage;
using Gatehouse.Tests.Doubles;
using Gatehouse.Tests.EndToEnd;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.Ledger;

/// <summary>
/// A real silo process on PostgreSQL (AdoNet clustering, <c>Storage:Kind PostgreSql</c>) in front of an OpenAI double:
/// after a mixed load the ledger's rows are the double's requests plus the cache answers, priced exactly.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UsageLedgerEndToEndTests(TestPostgres postgres)
{
    private const string Key = "gk-e2e-ledger";
    private const string Tag = "ledger";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static JsonObject Config(OpenAIUpstreamDouble upstream) => new()
    {
        ["Gatehouse"] = new JsonObject
        {
            ["Providers"] = new JsonObject
            {
                ["up"] = new JsonObject { ["Kind"] = "OpenAICompatible", ["BaseUrl"] = upstream.BaseUrlFor(Tag), ["TimeoutSeconds"] = 30, ["Retries"] = 1, ["RetryDelayMs"] = 1 },
            },
            ["Models"] = new JsonObject
            {
                // Priced by the alias: 2 USD in, 8 USD out per million.
                ["priced"] = new JsonObject
                {
                    ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "up", ["Model"] = "m1" }),
                    ["Fallbacks"] = new JsonArray("tabled"),
                    ["Pricing"] = new JsonObject { ["InputPerMillion"] = 2, ["OutputPerMillion"] = 8 },
                },
                // Priced by the shipped table (gpt-4o-mini: 0.15 in, 0.60 out).
                ["tabled"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "up", ["Model"] = "gpt-4o-mini" }) },
            },
            ["Apps"] = new JsonObject { ["app1"] = new JsonObject { ["Keys"] = new JsonArray(Key) } },
            ["Cache"] = new JsonObject { ["Enabled"] = true, ["TtlSeconds"] = 600 },
        },
    };

    private static async Task<HttpResponseMessage> Chat(HttpClient http, string model, string prompt, double temperature, bool stream = false)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["temperature"] = temperature,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
        };
        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var response = await http.SendAsync(message);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    [Fact]
    public async Task MixedLoad_LedgerRowsAreTheUpstreamRequestsPlusCacheAnswersAndCostIsThePricedUsage()
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        await using var upstream = await OpenAIUpstreamDouble.StartAsync();
        upstream.Behavior = request => request.LastUserText switch
        {
            var text when text.StartsWith("bad:", StringComparison.Ordinal) => UpstreamReply.BadRequest("no", null),
            var text when text.StartsWith("down:", StringComparison.Ordinal) && request.Model == "m1" => UpstreamReply.ServerError(),
            _ => null,
        };
        await using var silo = await SiloProcess.StartAsync(Config(upstream).ToJsonString(), new Dictionary<string, string>
        {
            ["Gatehouse__Cluster__Kind"] = "AdoNet",
            ["Gatehouse__Cluster__ConnectionString"] = database,
            ["Gatehouse__Storage__Kind"] = "PostgreSql",
        });
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl + "/") };

        var statuses = new List<int>
        {
            (int)(await Chat(http, "priced", "miss then hit", 0)).StatusCode,
            (int)(await Chat(http, "priced", "miss then hit", 0)).StatusCode,
            (int)(await Chat(http, "priced", "miss then hit", 0)).StatusCode,
            (int)(await Chat(http, "priced", "bypass", 1)).StatusCode,
            (int)(await Chat(http, "priced", "stream", 1, stream: true)).StatusCode,
            (int)(await Chat(http, "tabled", "table priced", 1)).StatusCode,
            (int)(await Chat(http, "priced", "bad: rejected", 1)).StatusCode,
            (int)(await Chat(http, "priced", "down: retried then falls back", 1)).StatusCode,
        };
        Assert.Equal([200, 200, 200, 200, 200, 200, 400, 200], statuses);

        const int hits = 2;
        var expectedRows = upstream.RequestCountFor(Tag) + hits;
        var deadline = DateTime.UtcNow + Deadline;
        while (await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage") < expectedRows)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the ledger has {await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage")} rows, expected {expectedRows}\n{silo.Output}");
            await Task.Delay(100);
        }

        // The double saw: miss, bypass, stream, table, bad, down ×2 (a retry) on m1, then the fallback on gpt-4o-mini.
        Assert.Equal(8, upstream.RequestCountFor(Tag));
        Assert.Equal(expectedRows, await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage"));
        Assert.Equal(
            [
                "app1 priced hit 0 ok", "app1 priced hit 0 ok", "app1 priced miss 1 ok",
                // The table-priced call; the fallback after two failed attempts on m1 is the request's third attempt.
                "bypass gpt-4o-mini 1 ok", "bypass gpt-4o-mini 3 ok",
                "bypass m1 1 InvalidRequest", "bypass m1 1 UpstreamFailed", "bypass m1 1 ok", "bypass m1 1 ok", "bypass m1 2 UpstreamFailed",
            ],
            (await Sql.ListAsync(database, """
                SELECT CASE WHEN cache IN ('hit', 'miss') THEN app_id || ' ' || alias || ' ' || cache ELSE cache || ' ' || model END || ' ' || attempts || ' ' || status
                FROM gatehouse_usage
                """)).Order(StringComparer.Ordinal));

        var okOnM1 = await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage WHERE model = 'm1' AND status = 'ok' AND cache <> 'hit'");
        var okOnMini = await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage WHERE model = 'gpt-4o-mini' AND status = 'ok'");
        var pricedCall = (11 * 2m + 7 * 8m) / 1_000_000m;
        var tabledCall = (11 * 0.15m + 7 * 0.60m) / 1_000_000m;
        Assert.Equal(okOnM1 * pricedCall + okOnMini * tabledCall, decimal.Parse(Assert.Single(await Sql.ListAsync(database, "SELECT sum(cost_usd)::text FROM gatehouse_usage")), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(hits * pricedCall, decimal.Parse(Assert.Single(await Sql.ListAsync(database, "SELECT sum(saved_usd)::text FROM gatehouse_usage")), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, await Sql.CountAsync(database, "SELECT count(*) FROM gatehouse_usage WHERE status = 'ok' AND cache IN ('miss', 'bypass') AND (prompt_tokens, completion_tokens) <> (11, 7)"));
    }
}
