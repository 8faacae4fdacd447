using System.Runtime.CompilerServices;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers.Anthropic;

/// <summary>An <see cref="IChatGateway"/> over Anthropic's Messages API, through the official Anthropic SDK.</summary>
/// <remarks>
/// Thread-safe; one instance per configured provider, owning one pooled <see cref="HttpClient"/>. The SDK carries the
/// call, parses SSE and types HTTP errors; its retries are off because retrying and failing over are the router's
/// decisions. The key goes out only as <c>x-api-key</c> (see <see cref="AnthropicWireHandler"/>). Bodies are built and
/// read as raw JSON (see <see cref="AnthropicChatMapping"/>).
/// </remarks>
internal sealed partial class AnthropicChatGateway : IChatGateway, IDisposable
{
    private const string ApiKeyHeader = "x-api-key";
    private const string VersionHeader = "anthropic-version";
    private static readonly IReadOnlyDictionary<string, JsonElement> NoParameters = new Dictionary<string, JsonElement>();

    /// <summary>
    /// The response headers of the call in flight on this async flow: the SDK's exceptions carry the status and body
    /// but not <c>retry-after</c>, which <see cref="AnthropicWireHandler"/> records here.
    /// </summary>
    private static readonly AsyncLocal<ErrorHeaders?> CurrentHeaders = new();

    private readonly string _providerName;
    private readonly TimeSpan _timeout;
    private readonly UpstreamFailures _failures;
    private readonly int _defaultMaxTokens;
    private readonly TimeProvider _timeProvider;
    private readonly HttpClient _httpClient;
    private readonly AnthropicClient _client;

    public AnthropicChatGateway(string providerName, ProviderOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(providerName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        _providerName = providerName;
        _timeProvider = timeProvider;
        _timeout = options.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(options.TimeoutSeconds) : System.Threading.Timeout.InfiniteTimeSpan;
        _failures = new UpstreamFailures(providerName, _timeout, logger);
        _defaultMaxTokens = options.DefaultMaxTokens is > 0 and var configured ? configured : AnthropicConstants.DefaultMaxTokens;

        var baseUrl = string.IsNullOrWhiteSpace(options.BaseUrl) ? AnthropicConstants.DefaultBaseUrl : options.BaseUrl.TrimEnd('/');
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"Gatehouse:Providers:{providerName}:BaseUrl must be an absolute http(s) URL.");
        }

        var apiKey = SecretValue.Resolve(options.ApiKey) ?? throw new InvalidOperationException(
            $"Gatehouse:Providers:{providerName}:ApiKey is required for a provider of kind {options.Kind} (a key, or env:NAME of a variable that is set).");

        _httpClient = new HttpClient(new AnthropicWireHandler(apiKey, new SocketsHttpHandler
        {
            // Recycle connections so DNS changes (failover of the upstream's endpoint) are picked up.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = int.MaxValue,
            EnableMultipleHttp2Connections = true,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        }))
        {
            // The gateway enforces TimeoutSeconds itself and tells a timeout from a cancellation.
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };

        _client = new AnthropicClient(new ClientOptions
        {
            BaseUrl = baseUrl,
            ApiKey = apiKey,
            HttpClient = _httpClient,
            MaxRetries = 0,
            Timeout = TimeSpan.FromDays(1),
        });
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parameters = Parameters(request);

        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        var headers = CurrentHeaders.Value = new ErrorHeaders();
        try
        {
            var message = await _client.Messages.Create(parameters, timeout.Token).ConfigureAwait(false);
            return AnthropicChatMapping.FromAnthropicMessage(message.RawData, request.Model, _timeProvider.GetUtcNow().ToUnixTimeSeconds());
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _failures.Translate(ex, timeout, cancellationToken, e => ClassifyVendorError(e, headers));
        }
        finally
        {
            CurrentHeaders.Value = null;
        }
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parameters = Parameters(request);
        var mapper = new AnthropicStreamMapper(request.Model, _timeProvider.GetUtcNow().ToUnixTimeSeconds(), request.IncludeUsage);

        // TimeoutSeconds bounds the whole stream: a stalled upstream must not hold a caller (or a lease) forever.
        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        var headers = new ErrorHeaders();
        var events = _client.Messages.CreateStreaming(parameters, timeout.Token).GetAsyncEnumerator(timeout.Token);
        try
        {
            while (true)
            {
                ChatChunk? chunk;
                try
                {
                    CurrentHeaders.Value = headers;
                    if (!await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    chunk = mapper.Map(events.Current.Json);
                }
                catch (Exception ex) when (ex is not GatewayException)
                {
                    throw _failures.Translate(ex, timeout, cancellationToken, e => ClassifyVendorError(e, headers));
                }
                finally
                {
                    CurrentHeaders.Value = null;
                }

                if (chunk is not null)
                {
                    yield return chunk;
                }
            }
        }
        finally
        {
            await DisposeQuietlyAsync(events).ConfigureAwait(false);
        }
    }

    public object? GetService(System.Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        _client.Dispose();
        _httpClient.Dispose();
    }

    private MessageCreateParams Parameters(ChatRequest request) =>
        MessageCreateParams.FromRawUnchecked(NoParameters, NoParameters, AnthropicChatMapping.ToAnthropicBody(request, _defaultMaxTokens));

    /// <summary>The SDK's own failure types: HTTP errors, error events inside a started stream, and its I/O failures.</summary>
    private GatewayException? ClassifyVendorError(Exception exception, ErrorHeaders headers) => exception switch
    {
        AnthropicApiException api => UpstreamErrors.FromHttpStatus(
            _providerName, (int)api.StatusCode, api.ResponseBody, headers.RetryAfter, null, _timeProvider.GetUtcNow()),
        // An error event inside a stream that had started with 200 (e.g. overloaded_error mid-answer).
        AnthropicSseException sse => UpstreamErrors.FromStreamError(_providerName, sse.Body.ValueKind == JsonValueKind.Undefined ? null : sse.Body.GetRawText()),
        AnthropicIOException => UpstreamErrors.FromTransportFailure(_providerName, exception),
        _ => null,
    };

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<RawMessageStreamEvent> events)
    {
        try
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException or AnthropicException)
        {
            // Disposing an abandoned stream closes its connection; a failure to do so changes nothing for the caller.
        }
    }

    private sealed class ErrorHeaders
    {
        public string? RetryAfter { get; set; }
    }

    /// <summary>
    /// Puts the key in Anthropic's own <c>x-api-key</c> header with the pinned <c>anthropic-version</c>, and records
    /// <c>retry-after</c> of a failed response for the call that made it (see <see cref="CurrentHeaders"/>).
    /// </summary>
    /// <remarks>
    /// SDK 13.13 sends the key as <c>Authorization: Bearer</c> and its own newest API version; the gateway pins the
    /// documented stable version so an SDK upgrade cannot change the wire format under a running deployment.
    /// </remarks>
    private sealed class AnthropicWireHandler(string apiKey, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var requestHeaders = request.Headers;
            requestHeaders.Authorization = null;
            requestHeaders.Remove(ApiKeyHeader);
            requestHeaders.TryAddWithoutValidation(ApiKeyHeader, apiKey);
            requestHeaders.Remove(VersionHeader);
            requestHeaders.TryAddWithoutValidation(VersionHeader, AnthropicConstants.ApiVersion);
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode && CurrentHeaders.Value is { } headers && response.Headers.RetryAfter is { } retryAfter)
            {
                headers.RetryAfter = retryAfter.Delta is { } delta
                    ? delta.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : retryAfter.Date?.ToString("r", System.Globalization.CultureInfo.InvariantCulture);
            }

            return response;
        }
    }
}
