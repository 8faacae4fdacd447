using Gatehouse.Providers;
using Gatehouse.Routing;
using Microsoft.Extensions.Options;

namespace Gatehouse.Configuration;

/// <summary>Checks the whole <c>Gatehouse</c> section and reports every problem at once, each naming its key.</summary>
public sealed class GatehouseOptionsValidator : IValidateOptions<GatehouseOptions>
{
    private readonly HashSet<string> _kinds;
    private readonly string _kindList;

    /// <param name="adapterFactories">The registered adapters: a provider's Kind must name one of them.</param>
    public GatehouseOptionsValidator(IEnumerable<IChatGatewayFactory> adapterFactories)
    {
        _kinds = new HashSet<string>(adapterFactories.Select(f => f.Kind), StringComparer.OrdinalIgnoreCase);
        _kindList = string.Join(", ", _kinds.Order(StringComparer.Ordinal));
    }

    public ValidateOptionsResult Validate(string? name, GatehouseOptions options)
    {
        var errors = Collect(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public List<string> Collect(GatehouseOptions options)
    {
        const string root = GatehouseOptions.SectionName;
        var errors = new List<string>();

        foreach (var (name, provider) in options.Providers)
        {
            var key = $"{root}:Providers:{name}";
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
                errors.Add($"{key}:BaseUrl '{provider.BaseUrl}' is not an absolute http or https URL.");
            }

            if (string.Equals(provider.Kind, ProviderKinds.OpenAICompatible, StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(provider.BaseUrl))
            {
                errors.Add($"{key}:BaseUrl is required for kind {ProviderKinds.OpenAICompatible}.");
            }

            if (provider.Kind is not null && (string.Equals(provider.Kind, ProviderKinds.OpenAI, StringComparison.OrdinalIgnoreCase)
                || string.Equals(provider.Kind, ProviderKinds.Anthropic, StringComparison.OrdinalIgnoreCase)))
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

            if (provider.TimeoutSeconds <= 0)
            {
                errors.Add($"{key}:TimeoutSeconds must be greater than 0.");
            }

            AddIfNotPositive(errors, $"{key}:RequestsPerMinute", provider.RequestsPerMinute);
            AddIfNotPositive(errors, $"{key}:TokensPerMinute", provider.TokensPerMinute);
            AddIfBadBurst(errors, key, provider.Burst, provider.RequestsPerMinute);
            AddIfNotPositive(errors, $"{key}:MaxConcurrency", provider.MaxConcurrency);
            AddIfNotPositive(errors, $"{key}:DefaultMaxTokens", provider.DefaultMaxTokens);
            AddIfNotPositive(errors, $"{key}:DefaultMaxTokensEstimate", provider.DefaultMaxTokensEstimate);
            if (provider.LatencyMs < 0)
            {
                errors.Add($"{key}:LatencyMs must not be negative.");
            }

            if (provider.Retries is < 0 or > 10)
            {
                errors.Add($"{key}:Retries must be between 0 and 10.");
            }

            if (provider.RetryDelayMs < 0)
            {
                errors.Add($"{key}:RetryDelayMs must not be negative.");
            }

            if (provider.CircuitBreaker.FailureThreshold < 1)
            {
                errors.Add($"{key}:CircuitBreaker:FailureThreshold must be at least 1.");
            }

            if (provider.CircuitBreaker.BreakSeconds <= 0 || !double.IsFinite(provider.CircuitBreaker.BreakSeconds))
            {
                errors.Add($"{key}:CircuitBreaker:BreakSeconds must be greater than 0.");
            }

            if (provider.MaxResponseBytes is < ProviderConstants.MinMaxResponseBytes or > ProviderConstants.MaxMaxResponseBytes)
            {
                errors.Add($"{key}:MaxResponseBytes must be between {ProviderConstants.MinMaxResponseBytes} and {ProviderConstants.MaxMaxResponseBytes}; it is {provider.MaxResponseBytes}.");
            }

            if (provider.FailureRate is < 0 or > 1)
            {
                errors.Add($"{key}:FailureRate must be between 0 and 1.");
            }
        }

        foreach (var (alias, model) in options.Models)
        {
            var key = $"{root}:Models:{alias}";
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
                else if (!options.Providers.ContainsKey(target.Provider))
                {
                    errors.Add($"{key}:Targets:{i}:Provider '{target.Provider}' is not a configured provider.");
                }

                if (string.IsNullOrWhiteSpace(target.Model))
                {
                    errors.Add($"{key}:Targets:{i}:Model is required.");
                }

                if (target.Weight <= 0)
                {
                    errors.Add($"{key}:Targets:{i}:Weight must be greater than 0.");
                }
            }

            if (model.HedgeAfterMs is <= 0)
            {
                errors.Add($"{key}:HedgeAfterMs must be greater than 0 (leave it out to turn hedging off).");
            }

            AddAliasListErrors(errors, $"{key}:Fallbacks", alias, model.Fallbacks, options);
            AddAliasListErrors(errors, $"{key}:ContextWindowFallbacks", alias, model.ContextWindowFallbacks, options);
        }

        var seenKeyHashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (appId, app) in options.Apps)
        {
            var key = $"{root}:Apps:{appId}";
            if (app.Keys.Count == 0)
            {
                errors.Add($"{key}:Keys must hold at least one key.");
            }

            for (var i = 0; i < app.Keys.Count; i++)
            {
                var hash = Apps.AppKeyHasher.TryHashConfiguredKey(app.Keys[i], out var error);
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

            AddIfNotPositive(errors, $"{key}:RequestsPerMinute", app.RequestsPerMinute);
            AddIfNotPositive(errors, $"{key}:TokensPerMinute", app.TokensPerMinute);
            AddIfBadBurst(errors, key, app.Burst, app.RequestsPerMinute);
            if (app.CacheNamespace is not null && string.IsNullOrWhiteSpace(app.CacheNamespace))
            {
                errors.Add($"{key}:CacheNamespace must not be blank (leave it out to use the app id).");
            }

            AddIfNotPositive(errors, $"{key}:DefaultMaxTokensEstimate", app.DefaultMaxTokensEstimate);
            if (!Enum.IsDefined(app.Priority))
            {
                errors.Add($"{key}:Priority must be High, Normal or Low.");
            }
        }

        CollectRateLimits(errors, options.RateLimits, $"{root}:{RateLimiting.RateLimitConstants.SectionName}");

        if (options.Cache.TtlSeconds <= 0)
        {
            errors.Add($"{root}:Cache:TtlSeconds must be greater than 0.");
        }

        if (options.Cache.MaxEntryBytes <= 0)
        {
            errors.Add($"{root}:Cache:MaxEntryBytes must be greater than 0.");
        }

        if (options.Cache.MaxBytesPerSilo <= 0)
        {
            errors.Add($"{root}:Cache:MaxBytesPerSilo must be greater than 0.");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            errors.Add($"{root}:MaxRequestBodyBytes must be greater than 0.");
        }

        if (options.Routing.MaxWaitMs < 0)
        {
            errors.Add($"{root}:Routing:MaxWaitMs must not be negative.");
        }

        if (options.AdminKey is not null && SecretValue.Resolve(options.AdminKey) is null)
        {
            errors.Add($"{root}:AdminKey refers to an environment variable that is not set.");
        }

        // ADO.NET clustering and PostgreSQL storage are designed (DESIGN.md) but not built yet: refusing them at start is
        // better than silently running a single-machine cluster with in-memory state.
        if (options.Cluster.Kind != "Localhost")
        {
            errors.Add($"{root}:Cluster:Kind '{options.Cluster.Kind}' is not supported by this build (only Localhost; AdoNet is not built yet).");
        }

        if (options.Storage.Kind != "Memory")
        {
            errors.Add($"{root}:Storage:Kind '{options.Storage.Kind}' is not supported by this build (only Memory; PostgreSql is not built yet).");
        }

        return errors;
    }

    private static void CollectRateLimits(List<string> errors, RateLimiting.RateLimitOptions rateLimits, string key)
    {
        if (rateLimits.DefaultMaxWaitMs < 0)
        {
            errors.Add($"{key}:DefaultMaxWaitMs must not be negative.");
        }

        if (rateLimits.MaxWaitCapMs < 0)
        {
            errors.Add($"{key}:MaxWaitCapMs must not be negative.");
        }

        if (rateLimits.LeaseSafetyMarginMs < 0 || rateLimits.LeaseSafetyMarginMs >= 500)
        {
            errors.Add($"{key}:LeaseSafetyMarginMs must be between 0 and 499 (a lease lasts at most until its one-second slot ends).");
        }

        if (rateLimits.MaxBatchShare is <= 0 or > 1)
        {
            errors.Add($"{key}:MaxBatchShare must be greater than 0 and at most 1.");
        }

        AddIfNotPositive(errors, $"{key}:DefaultMaxTokensEstimate", rateLimits.DefaultMaxTokensEstimate);
        if (rateLimits.ImageTokenEstimate < 0)
        {
            errors.Add($"{key}:ImageTokenEstimate must not be negative.");
        }

        if (rateLimits.ConcurrencyLeaseSeconds <= 0)
        {
            errors.Add($"{key}:ConcurrencyLeaseSeconds must be greater than 0.");
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

    private static void AddIfBadBurst(List<string> errors, string key, int? burst, int? requestsPerMinute)
    {
        if (burst is not { } value)
        {
            return;
        }

        if (requestsPerMinute is not { } limit)
        {
            errors.Add($"{key}:Burst needs {key}:RequestsPerMinute (it is the share of that limit admitted at once).");
        }
        else if (value < 1 || value > limit)
        {
            errors.Add($"{key}:Burst must be between 1 and {key}:RequestsPerMinute ({limit}); it is {value}.");
        }
    }

    private static void AddIfNotPositive(List<string> errors, string key, int? value)
    {
        if (value is <= 0)
        {
            errors.Add($"{key} must be greater than 0.");
        }
    }
}
