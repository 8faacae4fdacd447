using Gatehouse.Ledger;
using Orleans.Storage;
using Gatehouse.Tests.Support;
using Gatehouse.Apps;
using Gatehouse.Caching;
using Gatehouse.Gateway;
using Gatehouse.Providers;
using Gatehouse.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Cluster;

/// <summary>
/// Three in-process silos for the response cache: one fake upstream shared by all silos (so a test sees every silo's
/// calls in one place) and one <see cref="FakeTimeProvider"/> driving grain time (TTL and expiry timers), while the
/// silos' background areas stay on real time.
/// </summary>
public sealed class CacheClusterFixture : IAsyncLifetime
{
    public const string AppKey = "gk-cache-cluster";
    /// <summary>An app used by one test only, so that its usage counters are exact.</summary>
    public const string CountedAppKey = "gk-cache-counted";
    /// <summary>An app used by one embeddings test only, so that its usage records are exact.</summary>
    public const string EmbeddingsCountedAppKey = "gk-cache-embed-counted";
    /// <summary>An app with a token quota, used by one embeddings test only.</summary>
    public const string EmbeddingsQuotaAppKey = "gk-cache-embed-quota";
    public const int EmbeddingsQuotaTokensPerMinute = 1000;
    public const string Alias = "cached";
    public const string Provider = "cacheup";
    public const string EmbeddingsAlias = "embed";
    public const string EmbeddingsBackupAlias = "embed-backup";
    public const string EmbeddingsProvider = "embedup";
    public const string EmbeddingsBackupProvider = "embedback";
    public const int TtlSeconds = 60;
    /// <summary>Small, so that a test can fill it many times over; larger than the other tests' few answers together.</summary>
    public const long MaxBytesPerSilo = 256 * 1024;

    public static readonly Dictionary<string, string?> Config = new()
    {
        [$"Gatehouse:Providers:{Provider}:Kind"] = FakeChatGatewayFactory.FakeKind,
        [$"Gatehouse:Models:{Alias}:Targets:0:Provider"] = Provider,
        [$"Gatehouse:Models:{Alias}:Targets:0:Model"] = "cache-model",
        [$"Gatehouse:Models:{EmbeddingsAlias}:Type"] = "Embeddings",
        [$"Gatehouse:Models:{EmbeddingsAlias}:Targets:0:Provider"] = EmbeddingsProvider,
        [$"Gatehouse:Models:{EmbeddingsAlias}:Targets:0:Model"] = "embed-model",
        [$"Gatehouse:Models:{EmbeddingsAlias}:Fallbacks:0"] = EmbeddingsBackupAlias,
        [$"Gatehouse:Providers:{EmbeddingsProvider}:Kind"] = FakeChatGatewayFactory.FakeKind,
        [$"Gatehouse:Models:{EmbeddingsBackupAlias}:Type"] = "Embeddings",
        [$"Gatehouse:Models:{EmbeddingsBackupAlias}:Targets:0:Provider"] = EmbeddingsBackupProvider,
        [$"Gatehouse:Models:{EmbeddingsBackupAlias}:Targets:0:Model"] = "embed-backup-model",
        [$"Gatehouse:Providers:{EmbeddingsBackupProvider}:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Apps:cacher:Keys:0"] = AppKey,
        ["Gatehouse:Apps:counted:Keys:0"] = CountedAppKey,
        ["Gatehouse:Apps:embed-counted:Keys:0"] = EmbeddingsCountedAppKey,
        ["Gatehouse:Apps:embed-quota:Keys:0"] = EmbeddingsQuotaAppKey,
        ["Gatehouse:Apps:embed-quota:TokensPerMinute"] = EmbeddingsQuotaTokensPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gatehouse:Cache:TtlSeconds"] = TtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gatehouse:Cache:MaxBytesPerSilo"] = MaxBytesPerSilo.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public FakeUpstreams Upstreams { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public FakeChatGateway Upstream => Upstreams.Get(Provider);

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        var upstreams = Upstreams;
        var time = Time;
        var storage = new SharedGrainStorage();
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(time);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Quota, storage);
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public IServiceProvider ServicesOf(InProcessSiloHandle silo) => Cluster.GetSiloServiceProvider(silo.SiloAddress);

    public IGrainFactory GrainFactoryOf(int silo) => ServicesOf(Cluster.Silos[silo]).GetRequiredService<IGrainFactory>();

    public ChatPipeline PipelineOf(InProcessSiloHandle silo) => ServicesOf(silo).GetRequiredService<ChatPipeline>();

    /// <summary>The chat cache stage of the silo's pipeline (for the cache key it gives a request).</summary>
    public ResponseCacheStage CacheStageOf(InProcessSiloHandle silo) =>
        (ResponseCacheStage)ServicesOf(silo).GetRequiredService<GatewayPipeline>().First.GetService(typeof(ResponseCacheStage))!;

    public EmbeddingPipeline EmbeddingsOf(int silo) => ServicesOf(Cluster.Silos[silo]).GetRequiredService<EmbeddingPipeline>();

    public ResponseStore StoreOf(InProcessSiloHandle silo) => ServicesOf(silo).GetRequiredService<ResponseStore>();

    public AppIdentity App => AppOf(AppKey);

    public AppIdentity AppOf(string key) => ServicesOf(Cluster.Silos[0]).GetRequiredService<RequestAuthorizer>().Authorize(key, Alias);

    /// <summary>The cluster-wide usage of an app: the sum of every silo's counters.</summary>
    /// <summary>
    /// What the usage ledger recorded for the app on every silo, once each silo's ledger has written what it holds:
    /// upstream calls and their billed tokens, answers served without one (hits and shared), and the prompt tokens they saved.
    /// </summary>
    public async Task<(long UpstreamCalls, long PromptTokens, long CompletionTokens, long CacheAnswers, long SavedPromptTokens)> UsageOfAsync(string appId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Cluster.Silos.Any(s => ServicesOf(s).GetRequiredService<IUsageLedger>().Pending > 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "the ledgers did not flush");
            Time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(5);
        }

        var records = Cluster.Silos.SelectMany(s => ServicesOf(s).GetRequiredService<MemoryUsageSink>().Snapshot()).Where(r => r.AppId == appId).ToList();
        var upstream = records.Where(r => r.IsUpstreamCall).ToList();
        var answers = records.Where(r => !r.IsUpstreamCall).ToList();
        return (upstream.Count, upstream.Sum(r => (long)r.PromptTokens), upstream.Sum(r => (long)r.CompletionTokens), answers.Count, answers.Sum(r => (long)r.PromptTokens));
    }
}

[CollectionDefinition(Name)]
public sealed class CacheClusterCollection : ICollectionFixture<CacheClusterFixture>
{
    public const string Name = "cache-cluster";
}
