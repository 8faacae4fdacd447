using System.Net;
using Gatehouse.Apps;
using Gatehouse.Providers;
using Gatehouse.RateLimiting;
using Gatehouse.Routing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Configuration;

/// <summary>
/// Checks the whole <c>Gatehouse</c> section and reports every problem at once, each naming its key: first every setting
/// against its data annotations (the generated validators), then the rules that span settings — references between
/// providers, aliases and apps, known kinds and strategies, secrets that must resolve, cluster and storage combinations.
/// </summary>
/// <remarks>
/// The generated validators cannot name an entry of a dictionary by its key, so the providers, aliases and apps are handed
/// to theirs one by one here, before the root's; the failures keep the order the settings are written in.
/// </remarks>
internal sealed class GatehouseOptionsCrossFieldValidator : IValidateOptions<GatehouseOptions>
{
    private const string Root = GatehouseOptions.SectionName;

    private static readonly string[] ReservedPaths = ["/v1", "/admin", "/metrics", "/healthz", "/readyz"];

    private static readonly GatehouseOptionsValidator RootSettings = new();
    private static readonly ProviderOptionsValidator ProviderSettings = new();
    private static readonly ModelOptionsValidator ModelSettings = new();
    private static readonly AppOptionsValidator AppSettings = new();
    private static readonly QuotaOptionsValidator QuotaSettings = new();

    private readonly HashSet<string> _kinds;
    private readonly string _kindList;
    private readonly HashSet<string> _embeddingKinds;
    private readonly string _embeddingKindList;

    /// <param name="adapterFactories">The registered adapters: a provider's Kind must name one of them.</param>
    public GatehouseOptionsCrossFieldValidator(IEnumerable<IChatGatewayFactory> adapterFactories)
    {
        _kinds = new HashSet<string>(adapterFactories.Select(f => f.Kind), StringComparer.OrdinalIgnoreCase);
        _kindList = string.Join(", ", _kinds.Order(StringComparer.Ordinal));
        _embeddingKinds = new HashSet<string>(adapterFactories.Where(f => f.ServesEmbeddings).Select(f => f.Kind), StringComparer.OrdinalIgnoreCase);
        _embeddingKindList = string.Join(", ", _embeddingKinds.Order(StringComparer.Ordinal));
    }

    public ValidateOptionsResult Validate(string? name, GatehouseOptions options)
    {
        var errors = Collect(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public List<string> Collect(GatehouseOptions options)
    {
        var errors = SettingFailures(options);
        foreach (var (name, provider) in options.Providers)
        {
            AddProviderErrors(errors, $"{Root}:Providers:{name}", provider);
        }

        foreach (var (alias, model) in options.Models)
        {
            AddModelErrors(errors, $"{Root}:Models:{alias}", alias, model, options);
        }

        var seenKeyHashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (appId, app) in options.Apps)
        {
            AddAppErrors(errors, $"{Root}:Apps:{appId}", appId, app, options, seenKeyHashes);
        }

        if (string.IsNullOrWhiteSpace(options.Cluster.ClusterId))
        {
            errors.Add($"{Root}:Cluster:ClusterId must not be blank.");
        }

        if (string.IsNullOrWhiteSpace(options.Cluster.ServiceId))
        {
            errors.Add($"{Root}:Cluster:ServiceId must not be blank.");
        }

        if (options.Cluster.SiloPort == options.Cluster.GatewayPort)
        {
            errors.Add($"{Root}:Cluster:GatewayPort must differ from {Root}:Cluster:SiloPort; both are {options.Cluster.SiloPort}.");
        }

        if (options.AdminKey is not null && SecretValue.Resolve(options.AdminKey) is null)
        {
            errors.Add($"{Root}:AdminKey refers to an environment variable that is not set.");
        }

        AddDashboardErrors(errors, options);
        AddClusterErrors(errors, options);
        return errors;
    }

    /// <summary>Every setting checked against its data annotations by the generated validators, in the order they are written.</summary>
    public static List<string> SettingFailures(GatehouseOptions options)
    {
        var failures = new List<string>();
        foreach (var (name, provider) in options.Providers)
        {
            AddQuotaFirst(failures, $"{Root}:Providers:{name}", provider, ProviderSettings);
        }

        foreach (var (alias, model) in options.Models)
        {
            failures.AddRange(ModelSettings.Validate(SettingKeys.ValidatorName($"{Root}:Models:{alias}"), model).Failures ?? []);
        }

        foreach (var (appId, app) in options.Apps)
        {
            AddQuotaFirst(failures, $"{Root}:Apps:{appId}", app, AppSettings);
        }

        failures.AddRange(RootSettings.Validate(SettingKeys.ValidatorName(Root), options).Failures ?? []);
        return failures;
    }

    /// <remarks>
    /// The generator checks a class's own settings before the ones it inherits; the quota settings are written first in an
    /// entry, so they are checked first and not again.
    /// </remarks>
    private static void AddQuotaFirst<T>(List<string> failures, string key, T entry, IValidateOptions<T> validator)
        where T : QuotaOptions
    {
        var name = SettingKeys.ValidatorName(key);
        var quota = QuotaSettings.Validate(name, entry).Failures ?? [];
        failures.AddRange(quota);
        failures.AddRange((validator.Validate(name, entry).Failures ?? []).Except(quota));
    }

    private void AddProviderErrors(List<string> errors, string key, ProviderOptions provider)
    {
        if (string.IsNullOrWhiteSpace(provider.Kind))
        {
            errors.Add($"{key}:Kind is required (one of {_kindList}).");
        }
        else if (!_kinds.Contains(provider.Kind))
        {
            errors.Add($"{key}:Kind '{provider.Kind}' is not a known provider kind (one of {_kindList}).");
        }

        // Uri alone is not enough: on Unix "/v1" parses as an absolute file: URI and "localhost:8000" as scheme "localhost".
        if (provider.BaseUrl is not null
            && (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add(provider.BaseUrl.Contains('@', StringComparison.Ordinal)
                ? $"{key}:BaseUrl is not an absolute http or https URL (its value holds '@' and is not shown)."
                : $"{key}:BaseUrl '{provider.BaseUrl}' is not an absolute http or https URL.");
        }
        else if (provider.BaseUrl is not null && Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var withCredentials) && withCredentials.UserInfo.Length > 0)
        {
            // Credentials in a URL end up in logs and error messages; the key has its own, never-printed setting.
            errors.Add($"{key}:BaseUrl must not hold credentials (user:password@); put the key in {key}:ApiKey (its value is not shown).");
        }

        if (string.Equals(provider.Kind, ProviderKinds.OpenAICompatible, StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(provider.BaseUrl))
        {
            errors.Add($"{key}:BaseUrl is required for kind {ProviderKinds.OpenAICompatible}.");
        }

        if (provider.Kind is not null && (string.Equals(provider.Kind, ProviderKinds.OpenAI, StringComparison.OrdinalIgnoreCase)
            || string.Equals(provider.Kind, ProviderKinds.Anthropic, StringComparison.OrdinalIgnoreCase)
            || string.Equals(provider.Kind, ProviderKinds.Gemini, StringComparison.OrdinalIgnoreCase)))
        {
            if (string.IsNullOrWhiteSpace(provider.ApiKey))
            {
                errors.Add($"{key}:ApiKey is required for kind {provider.Kind} (use env:NAME to read it from the environment).");
            }
            else if (SecretValue.Resolve(provider.ApiKey) is null)
            {
                errors.Add($"{key}:ApiKey refers to environment variable '{provider.ApiKey[SecretValue.EnvironmentPrefix.Length..]}', which is not set.");
            }
        }

        AddIfBadBurst(errors, key, provider);
    }

    private void AddModelErrors(List<string> errors, string key, string alias, ModelOptions model, GatehouseOptions options)
    {
        if (!RoutingStrategies.IsKnown(model.Strategy))
        {
            errors.Add($"{key}:Strategy '{model.Strategy}' is not a known strategy (one of {string.Join(", ", RoutingStrategies.All)}).");
        }

        if (model.Targets.Count == 0)
        {
            errors.Add($"{key}:Targets must name at least one target.");
        }

        for (var i = 0; i < model.Targets.Count; i++)
        {
            var target = model.Targets[i];
            if (string.IsNullOrWhiteSpace(target.Provider))
            {
                errors.Add($"{key}:Targets:{i}:Provider is required.");
            }
            else if (!options.Providers.TryGetValue(target.Provider, out var provider))
            {
                errors.Add($"{key}:Targets:{i}:Provider '{target.Provider}' is not a configured provider.");
            }
            else if (model.Type == ModelType.Embeddings && _kinds.Contains(provider.Kind ?? "") && !_embeddingKinds.Contains(provider.Kind!))
            {
                errors.Add($"{key}:Targets:{i}:Provider '{target.Provider}' is of kind {provider.Kind}, which serves no embeddings (kinds that do: {_embeddingKindList}).");
            }

            if (string.IsNullOrWhiteSpace(target.Model))
            {
                errors.Add($"{key}:Targets:{i}:Model is required.");
            }
        }

        AddAliasListErrors(errors, $"{key}:Fallbacks", alias, model.Fallbacks, options);
        AddAliasListErrors(errors, $"{key}:ContextWindowFallbacks", alias, model.ContextWindowFallbacks, options);
        if (model.Type == ModelType.Embeddings && model.ContextWindowFallbacks.Count > 0)
        {
            errors.Add($"{key}:ContextWindowFallbacks is for chat aliases; an embeddings alias has none.");
        }

        for (var i = 0; i < model.Fallbacks.Count; i++)
        {
            if (options.Models.TryGetValue(model.Fallbacks[i], out var fallback) && fallback.Type != model.Type)
            {
                errors.Add($"{key}:Fallbacks:{i} '{model.Fallbacks[i]}' is a {fallback.Type} alias; a fallback serves the same endpoint ({model.Type}).");
            }
        }
    }

    private static void AddAppErrors(List<string> errors, string key, string appId, AppOptions app, GatehouseOptions options, Dictionary<string, string> seenKeyHashes)
    {
        if (app.Keys.Count == 0)
        {
            errors.Add($"{key}:Keys must hold at least one key.");
        }

        for (var i = 0; i < app.Keys.Count; i++)
        {
            var hash = AppKeyHasher.TryHashConfiguredKey(app.Keys[i], out var error);
            if (hash is null)
            {
                errors.Add($"{key}:Keys:{i} {error}");
            }
            else if (!seenKeyHashes.TryAdd(hash, appId))
            {
                errors.Add($"{key}:Keys:{i} is also a key of app '{seenKeyHashes[hash]}'.");
            }
        }

        for (var i = 0; i < app.Models.Count; i++)
        {
            if (!options.Models.ContainsKey(app.Models[i]))
            {
                errors.Add($"{key}:Models:{i} '{app.Models[i]}' is not a configured model alias.");
            }
        }

        AddIfBadBurst(errors, key, app);
        if (app.CacheNamespace is not null && string.IsNullOrWhiteSpace(app.CacheNamespace))
        {
            errors.Add($"{key}:CacheNamespace must not be blank (leave it out to use the app id).");
        }
    }

    private static void AddDashboardErrors(List<string> errors, GatehouseOptions options)
    {
        var dashboard = options.Dashboard;
        if (dashboard.Enabled && string.IsNullOrWhiteSpace(options.AdminKey))
        {
            errors.Add($"{Root}:Dashboard:Enabled is true but {Root}:AdminKey is not set: the dashboard is served only behind the admin key.");
        }

        var prefix = dashboard.PathPrefix;
        if (!prefix.StartsWith('/') || prefix.Length < 2 || prefix.EndsWith('/') || prefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_')))
        {
            errors.Add($"{Root}:Dashboard:PathPrefix '{prefix}' must be a path such as /dashboard (letters, digits, '-', '_' and '/', no trailing '/').");
        }
        else if (ReservedPaths.FirstOrDefault(p => prefix.Equals(p, StringComparison.OrdinalIgnoreCase) || prefix.StartsWith(p + "/", StringComparison.OrdinalIgnoreCase)) is { } taken)
        {
            errors.Add($"{Root}:Dashboard:PathPrefix '{prefix}' is under {taken}, which the gateway serves.");
        }
    }

    private static void AddClusterErrors(List<string> errors, GatehouseOptions options)
    {
        var cluster = options.Cluster;
        if (cluster.Kind == ClusterKind.AdoNet)
        {
            AddConnectionStringErrors(errors, $"{Root}:Cluster:ConnectionString", cluster.ConnectionString, "Cluster:Kind AdoNet");
            if (options.Storage.Kind != StorageKind.PostgreSql)
            {
                // The quota authorities' grant records must outlive the silo that wrote them, or a move over-admits.
                errors.Add($"{Root}:Storage:Kind must be PostgreSql when {Root}:Cluster:Kind is AdoNet (grain state kept in one silo's memory is lost with that silo).");
            }

            if (cluster.PrimarySiloPort is not null)
            {
                errors.Add($"{Root}:Cluster:PrimarySiloPort applies to Cluster:Kind Localhost only; AdoNet silos find each other in the membership table.");
            }
        }

        // Without its own connection string, storage uses the cluster's, which is checked above for AdoNet.
        if (options.Storage.Kind == StorageKind.PostgreSql && (options.Storage.ConnectionString is not null || cluster.Kind != ClusterKind.AdoNet))
        {
            AddConnectionStringErrors(errors, $"{Root}:Storage:ConnectionString", options.Storage.ConnectionString ?? cluster.ConnectionString, "Storage:Kind PostgreSql");
        }

        if (string.IsNullOrWhiteSpace(cluster.AdvertisedAddress))
        {
            errors.Add($"{Root}:Cluster:AdvertisedAddress is required (an IP address or a host name).");
        }
        else if (!IPAddress.TryParse(cluster.AdvertisedAddress, out _) && Uri.CheckHostName(cluster.AdvertisedAddress) != UriHostNameType.Dns)
        {
            errors.Add($"{Root}:Cluster:AdvertisedAddress '{cluster.AdvertisedAddress}' is neither an IP address nor a host name.");
        }
        else if (cluster.Kind == ClusterKind.Localhost && !IsLoopback(cluster.AdvertisedAddress))
        {
            errors.Add($"{Root}:Cluster:AdvertisedAddress must be 127.0.0.1 for Cluster:Kind Localhost; use AdoNet to cluster across machines.");
        }
    }

    private static bool IsLoopback(string address) =>
        string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip));

    private static void AddConnectionStringErrors(List<string> errors, string key, string? value, string because)
    {
        var resolved = SecretValue.Resolve(value);
        if (resolved is null)
        {
            errors.Add(value is null
                ? $"{key} is required for {because} (use env:NAME to read it from the environment)."
                : $"{key} refers to an environment variable that is not set.");
            return;
        }

        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(resolved);
        }
        catch (ArgumentException)
        {
            // The value may hold a password: name the key, never the value.
            errors.Add($"{key} is not a valid PostgreSQL connection string (Host=...;Port=...;Username=...;Password=...;Database=...).");
        }
    }

    private static void AddAliasListErrors(List<string> errors, string key, string alias, List<string> aliases, GatehouseOptions options)
    {
        for (var i = 0; i < aliases.Count; i++)
        {
            var fallback = aliases[i];
            if (!options.Models.ContainsKey(fallback))
            {
                errors.Add($"{key}:{i} '{fallback}' is not a configured model alias.");
            }
            else if (fallback == alias)
            {
                errors.Add($"{key}:{i} must not name the alias itself.");
            }
        }
    }

    private static void AddIfBadBurst(List<string> errors, string key, QuotaOptions quota)
    {
        if (quota.Burst is not { } value)
        {
            return;
        }

        if (quota.RequestsPerMinute is not { } limit)
        {
            errors.Add($"{key}:Burst needs {key}:RequestsPerMinute (it is the share of that limit admitted at once).");
        }
        else if (value > limit && value <= SettingBounds.MaxRequestsPerMinute)
        {
            errors.Add($"{key}:Burst must be between 1 and {key}:RequestsPerMinute ({limit}); it is {value}.");
        }
    }
}
