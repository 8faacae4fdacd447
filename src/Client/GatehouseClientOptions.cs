using System.ComponentModel.DataAnnotations;

namespace Gatehouse.Client;

/// <summary>Options of the Gatehouse grain client: which cluster to join and which application calls it.</summary>
/// <remarks>
/// Validated when the host starts: a missing <see cref="AppKey"/> or an unusable gateway list fails
/// startup with a message naming the option, rather than the first request.
/// </remarks>
public sealed class GatehouseClientOptions
{
    /// <summary>Gets or sets the application key the gateway authenticates every request with.</summary>
    /// <remarks>Required. The key is sent with each call and hashed on the silo; it is never logged by the client.</remarks>
    [Required]
    public string AppKey { get; set; } = string.Empty;

    /// <summary>Gets or sets how the client finds the cluster's silos.</summary>
    /// <remarks>The default value is <see cref="GatehouseClusterKind.Localhost"/>.</remarks>
    public GatehouseClusterKind Cluster { get; set; } = GatehouseClusterKind.Localhost;

    /// <summary>Gets or sets the gateway port of the silo on 127.0.0.1 when <see cref="Cluster"/> is <see cref="GatehouseClusterKind.Localhost"/>.</summary>
    /// <remarks>The default value is 30000 (<see cref="GatehouseClientConstants.DefaultGatewayPort"/>).</remarks>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = GatehouseClientConstants.DefaultGatewayPort;

    /// <summary>Gets or sets the silo gateway endpoints, each <c>host:port</c>, used when <see cref="Cluster"/> is <see cref="GatehouseClusterKind.StaticGateways"/>.</summary>
    /// <remarks>
    /// The default value is an empty list. Host names are resolved once, when the client starts;
    /// IPv6 addresses are written in brackets (<c>[::1]:30000</c>).
    /// </remarks>
    public IList<string> Gateways { get; set; } = [];

    /// <summary>Gets or sets the Npgsql connection string of the silos' membership database, used when <see cref="Cluster"/> is <see cref="GatehouseClusterKind.AdoNet"/>.</summary>
    /// <remarks>The default value is <see langword="null"/>. The client only reads the membership table; it needs no write access.</remarks>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets how often the client refreshes its list of live gateways.</summary>
    /// <remarks>
    /// The default value is 5 seconds (<see cref="GatehouseClientConstants.DefaultGatewayListRefreshPeriod"/>): a silo
    /// that joins takes new calls within it. A gateway that goes away is dropped at once, whatever the period.
    /// </remarks>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = GatehouseClientConstants.DefaultGatewayListRefreshPeriod;

    /// <summary>Gets or sets how long one call (a whole response, or each step of a stream) may take before it fails.</summary>
    /// <remarks>
    /// The default value is 10 minutes (<see cref="GatehouseClientConstants.DefaultCallTimeout"/>). It is also how long a
    /// call in flight on a gateway silo that dies waits before it fails: Orleans' client does not break calls on a lost
    /// gateway connection. Set it a little above the longest upstream timeout of the models the service calls.
    /// </remarks>
    public TimeSpan CallTimeout { get; set; } = GatehouseClientConstants.DefaultCallTimeout;

    /// <summary>Gets or sets how many times a call is retried when the silo handling it went away before answering.</summary>
    /// <remarks>
    /// The default value is 2 (<see cref="GatehouseClientConstants.DefaultMaxRetries"/>), as in the official OpenAI SDK;
    /// the waits are 0.5 s then 1 s, with jitter. A stream is retried only before its first chunk. Calls that time out
    /// and errors the gateway raises (rate limits, bad requests, failed upstreams) are never retried here. 0 turns retries off.
    /// </remarks>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = GatehouseClientConstants.DefaultMaxRetries;

    /// <summary>Gets or sets the Orleans cluster id; it must match the silos'.</summary>
    /// <remarks>The default value is <c>"gatehouse"</c> (<see cref="GatehouseClientConstants.DefaultClusterId"/>).</remarks>
    [Required]
    public string ClusterId { get; set; } = GatehouseClientConstants.DefaultClusterId;

    /// <summary>Gets or sets the Orleans service id; it must match the silos'.</summary>
    /// <remarks>The default value is <c>"gatehouse"</c> (<see cref="GatehouseClientConstants.DefaultServiceId"/>).</remarks>
    [Required]
    public string ServiceId { get; set; } = GatehouseClientConstants.DefaultServiceId;

    /// <summary>Gets or sets the embeddings alias used when a request's <c>EmbeddingGenerationOptions.ModelId</c> is null.</summary>
    /// <remarks>The default value is <see langword="null"/>: every request must then name its model.</remarks>
    public string? DefaultEmbeddingModel { get; set; }

    /// <summary>Gets or sets the model alias used when a request's <c>ChatOptions.ModelId</c> is null.</summary>
    /// <remarks>The default value is <see langword="null"/>: every request must then name its model.</remarks>
    public string? DefaultModel { get; set; }
}
