
namespace Gatehouse.Providers;

/// <summary>The pooled <see cref="HttpClient"/> every HTTP adapter talks to its upstream through.</summary>
internal static class UpstreamHttpClient
{
    /// <summary>
    /// Creates the client of one provider: pooled connections recycled for DNS changes, no automatic decompression, no
    /// HttpClient timeout (the adapters enforce <c>TimeoutSeconds</c> and tell it from a cancellation), and answers capped
    /// at <see cref="ProviderOptions.MaxResponseBytes"/> by <see cref="ResponseSizeLimitHandler"/>.
    /// </summary>
    /// <param name="options">The provider's options.</param>
    /// <param name="outerHandler">An adapter's own handler (headers it rewrites), put in front of the size limit; null for none.</param>
    public static HttpClient Create(ProviderOptions options, Func<HttpMessageHandler, DelegatingHandler>? outerHandler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        HttpMessageHandler handler = new ResponseSizeLimitHandler(MaxResponseBytes(options), new SocketsHttpHandler
        {
            // Recycle connections so DNS changes (failover of the upstream's endpoint) are picked up.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = int.MaxValue,
            EnableMultipleHttp2Connections = true,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        });
        if (outerHandler is not null)
        {
            handler = outerHandler(handler);
        }

        return new HttpClient(handler)
        {
            // HttpClient's 100 s default would cut long streams short.
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The provider's answer size limit; the default for a value validation would have refused.</summary>
    public static long MaxResponseBytes(ProviderOptions options) =>
        options.MaxResponseBytes > 0 ? options.MaxResponseBytes : ProviderConstants.DefaultMaxResponseBytes;
}
