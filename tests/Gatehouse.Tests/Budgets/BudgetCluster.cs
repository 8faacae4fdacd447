using Gatehouse.Apps;
using Gatehouse.Budgets;
using Gatehouse.Chat;
using Gatehouse.Gateway;
using Gatehouse.Ledger;
using Gatehouse.Providers;
using Gatehouse.Silo.Hosting;
using Gatehouse.Silo.Storage;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Budgets;

/// <summary>
/// Two in-process silos whose grain storage and usage ledger are a fresh PostgreSQL database (schema applied), on a
/// shared fake clock starting 2026-03-30 23:00 UTC. Alias <c>priced</c> costs nothing per prompt token and $0.10 per
/// completion token; its fake upstream bills exactly <c>max_tokens</c> completion tokens, so a call asked with
/// <c>max_tokens</c> 10 costs exactly its estimate, $1.
/// </summary>
/// <remarks>App <c>daily</c> may spend $20 a day; app <c>monthly</c> $2 a day and $3 a month.</remarks>
internal sealed class BudgetCluster : IAsyncDisposable
{
    public const string Alias = "priced";
    public const decimal CostPerCall = 1m;

    private BudgetCluster(InProcessTestCluster cluster, FakeUpstreams upstreams, FakeTimeProvider time, string database)
    {
        Cluster = cluster;
        Upstreams = upstreams;
        Time = time;
        Database = database;
    }

    public InProcessTestCluster Cluster { get; }

    public FakeUpstreams Upstreams { get; }

    public FakeChatGateway Upstream => Upstreams.Get(Alias);

    public FakeTimeProvider Time { get; }

    /// <summary>The connection string of the cluster's database.</summary>
    public string Database { get; }

    public static async Task<BudgetCluster> StartAsync(Postgres.TestPostgres postgres)
    {
        var database = await postgres.CreateDatabaseAsync();
        await DatabaseSchema.ApplyAsync(database);
        var config = new Dictionary<string, string?>
        {
            ["Gatehouse:Storage:Kind"] = "PostgreSql",
            ["Gatehouse:Storage:ConnectionString"] = database,
            ["Gatehouse:Providers:priced:Kind"] = FakeChatGatewayFactory.FakeKind,
            ["Gatehouse:Models:priced:Targets:0:Provider"] = "priced",
            ["Gatehouse:Models:priced:Targets:0:Model"] = "priced-model",
            ["Gatehouse:Models:priced:Pricing:InputPerMillion"] = "0",
            ["Gatehouse:Models:priced:Pricing:OutputPerMillion"] = "100000",
            ["Gatehouse:Apps:daily:Keys:0"] = "gk-FAKE-daily",
            ["Gatehouse:Apps:daily:BudgetUsdPerDay"] = "20",
            ["Gatehouse:Apps:monthly:Keys:0"] = "gk-FAKE-monthly",
            ["Gatehouse:Apps:monthly:BudgetUsdPerDay"] = "2",
            ["Gatehouse:Apps:monthly:BudgetUsdPerMonth"] = "3",
        };
        var upstreams = new FakeUpstreams();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 30, 23, 0, 0, TimeSpan.Zero));
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(time);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            var section = new ConfigurationBuilder().AddInMemoryCollection(config).Build().GetSection("Gatehouse");
            silo.Services.AddGatehouseGrains(section);
            silo.AddStorage(section);
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new BudgetCluster(cluster, upstreams, time, database);
    }

    public T ServiceOf<T>(int silo)
        where T : notnull => Cluster.GetSiloServiceProvider(Cluster.Silos[silo].SiloAddress).GetRequiredService<T>();

    public ChatPipeline PipelineOf(int silo) => ServiceOf<ChatPipeline>(silo);

    public static AppIdentity App(string id) => new(id, null);

    public static ChatRequest Ask(string text) => new()
    {
        Model = Alias,
        Messages = [ChatMessage.FromText(ChatRole.User, text)],
        MaxTokens = 10,
    };

    /// <summary>Bills each call exactly its <c>max_tokens</c> as completion tokens, after <paramref name="held"/> completes.</summary>
    public void BillMaxTokens(Task? held = null) =>
        Upstream.GetResponseAsyncCallback = async (request, cancellationToken) =>
        {
            if (held is not null)
            {
                await held.WaitAsync(cancellationToken);
            }

            return Upstream.Reply(request) with { Usage = new Usage { PromptTokens = 10, CompletionTokens = request.MaxTokens ?? 0 } };
        };

    /// <summary>Sends every silo's budget settlements, then (after the idle time) gives back every silo's unused money.</summary>
    public async Task SettleAllAsync()
    {
        for (var silo = 0; silo < Cluster.Silos.Count; silo++)
        {
            await ServiceOf<BudgetLeaseHolder>(silo).FlushAsync(CancellationToken.None);
        }

        Time.Advance(BudgetLeaseHolder.IdleRelease);
        for (var silo = 0; silo < Cluster.Silos.Count; silo++)
        {
            await ServiceOf<BudgetLeaseHolder>(silo).FlushAsync(CancellationToken.None);
        }
    }

    /// <summary>Moves the fake clock on until every silo's usage ledger has written what it holds to PostgreSQL.</summary>
    public async Task FlushLedgersAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Enumerable.Range(0, Cluster.Silos.Count).Any(s => ServiceOf<IUsageLedger>(s).Pending > 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "the ledgers did not flush");
            Time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Upstream.Reset();
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
