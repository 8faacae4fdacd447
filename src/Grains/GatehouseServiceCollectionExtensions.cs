using Gatehouse.Apps;
using Gatehouse.Budgets;
using Gatehouse.Caching;
using Gatehouse.Configuration;
using Gatehouse.Gateway;
using Gatehouse.Health;
using Gatehouse.Ledger;
using Gatehouse.Metrics;
using Gatehouse.Providers;
using Gatehouse.Providers.Anthropic;
using Gatehouse.Providers.Gemini;
using Gatehouse.Providers.Local;
using Gatehouse.Providers.OpenAI;
using Gatehouse.Providers.Simulated;
using Gatehouse.RateLimiting.Leases;
using Gatehouse.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gatehouse;

public static class GatehouseServiceCollectionExtensions
{
    /// <summary>
    /// Registers what a silo needs to serve Gatehouse's grains: options bound from <paramref name="gatehouseSection"/>
    /// and validated at start, the built-in provider adapters, the route table, the app registry and health reporting.
    /// </summary>
    public static IServiceCollection AddGatehouseGrains(this IServiceCollection services, IConfigurationSection gatehouseSection)
    {
        services.TryAddSingleton(TimeProvider.System);
        // Checked before it is bound: the binder alone throws on some bad values and silently drops entries holding others.
        var binding = new CheckedGatehouseBinding(gatehouseSection);
        services.AddSingleton<IConfigureOptions<GatehouseOptions>>(binding);
        services.AddOptions<GatehouseOptions>().ValidateOnStart();
        services.AddSingleton<IOptionsChangeTokenSource<GatehouseOptions>>(new ConfigurationChangeTokenSource<GatehouseOptions>(gatehouseSection));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatehouseOptions>>(binding));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatehouseOptions>, GatehouseOptionsCrossFieldValidator>());

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatGatewayFactory, SimulatedChatGatewayFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatGatewayFactory, OpenAIChatGatewayFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatGatewayFactory, OpenAICompatibleChatGatewayFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatGatewayFactory, AnthropicChatGatewayFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatGatewayFactory, OllamaChatGatewayFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatGatewayFactory, GeminiChatGatewayFactory>());

        services.TryAddSingleton<ProviderRegistry>();
        services.TryAddSingleton<UpstreamStates>();
        services.TryAddSingleton<RouteTable>();
        services.TryAddSingleton<AppRegistry>();
        services.TryAddSingleton<IAppLimitsSource>(sp => sp.GetRequiredService<AppRegistry>());
        services.TryAddSingleton<RequestAuthorizer>();
        services.AddMetrics();
        services.TryAddSingleton<GatehouseMetrics>();
        // The ledger's store defaults to this silo's memory; the silo host replaces the sink and query for PostgreSQL.
        services.TryAddSingleton(UsageLedgerSettings.Default);
        services.TryAddSingleton<MemoryUsageSink>(_ => new MemoryUsageSink());
        services.TryAddSingleton<IUsageSink>(sp => sp.GetRequiredService<MemoryUsageSink>());
        services.TryAddSingleton<IUsageQuery>(sp => new MemoryUsageQuery(sp.GetRequiredService<MemoryUsageSink>()));
        services.TryAddSingleton<UsageLedger>();
        services.TryAddSingleton<IUsageLedger>(sp => sp.GetRequiredService<UsageLedger>());
        services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        services.TryAddSingleton<UsagePricer>();
        services.TryAddSingleton<UsageMeter>();
        services.TryAddSingleton<ResponseStore>();
        services.TryAddSingleton<GatewayPipeline>();
        services.TryAddSingleton<ChatPipeline>();
        services.TryAddSingleton<EmbeddingPipeline>();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<GatehouseOptions>>().Value.RateLimits);
        services.TryAddSingleton<TokenEstimator>();
        services.TryAddSingleton<QuotaScopes>();
        services.TryAddSingleton<RequestDeadlines>();
        services.TryAddSingleton<QuotaLeaseHolder>();
        services.TryAddSingleton<UpstreamAdmission>();
        services.TryAddSingleton<AppQuotas>();
        services.AddHostedService(sp => sp.GetRequiredService<QuotaLeaseHolder>());
        services.TryAddSingleton<BudgetLeaseHolder>();
        services.TryAddSingleton<AppBudgets>();
        services.AddHostedService(sp => sp.GetRequiredService<BudgetLeaseHolder>());
        services.TryAddSingleton<ProviderHealthReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<ProviderHealthReporter>());
        return services;
    }

    /// <summary>
    /// Makes the silo seed the config file's apps into their grains at start and keep its app snapshot equal to them
    /// (<see cref="AppSnapshotSync"/>); without it the snapshot holds the config file's apps only.
    /// </summary>
    public static IServiceCollection AddAppSnapshotSync(this IServiceCollection services)
    {
        services.TryAddSingleton<AppSnapshotSync>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<AppSnapshotSync>());
        return services;
    }
}
