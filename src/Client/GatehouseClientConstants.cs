namespace Gatehouse.Client;

/// <summary>The default values of <see cref="GatehouseClientOptions"/>, in one place.</summary>
public static class GatehouseClientConstants
{
    /// <summary>The gateway port a localhost silo listens on for grain clients (the Orleans default).</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>How often the client refreshes its list of live gateways unless configured otherwise.</summary>
    public static readonly TimeSpan DefaultGatewayListRefreshPeriod = TimeSpan.FromSeconds(5);

    /// <summary>The ADO.NET provider invariant of the membership database (the silos' PostgreSQL).</summary>
    public const string AdoNetInvariant = "Npgsql";

    /// <summary>How long one grain call may take unless configured otherwise: 10 minutes, matching the silo.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How many times a call whose silo went away is retried unless configured otherwise (the OpenAI SDK's default).</summary>
    public const int DefaultMaxRetries = 2;

    /// <summary>The Orleans cluster id of a Gatehouse cluster unless the silo's configuration names another.</summary>
    public const string DefaultClusterId = "gatehouse";

    /// <summary>The Orleans service id of a Gatehouse cluster unless the silo's configuration names another.</summary>
    public const string DefaultServiceId = "gatehouse";

    /// <summary>The configuration section <c>AddGatehouseClient</c> binds on an <c>IHostApplicationBuilder</c>.</summary>
    public const string ConfigurationSectionName = "Gatehouse:Client";

    /// <summary>The <see cref="Microsoft.Extensions.AI.ChatClientMetadata.ProviderName"/> this client reports.</summary>
    public const string ProviderName = "gatehouse";

    /// <summary>Key in a response's <c>AdditionalProperties</c>: the provider that answered.</summary>
    public const string ProviderPropertyName = "gatehouse.provider";

    /// <summary>Key in a response's <c>AdditionalProperties</c>: how many upstream attempts it took (fallbacks included).</summary>
    public const string AttemptsPropertyName = "gatehouse.attempts";

    /// <summary>Key in a response's <c>AdditionalProperties</c>: the cache outcome (hit, miss, shared or bypass).</summary>
    public const string CachePropertyName = "gatehouse.cache";
}
