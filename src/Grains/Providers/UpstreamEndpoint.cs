using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers;

/// <summary>
/// One provider's upstream as every HTTP adapter reaches it: the validated base URL and resolved key, the pooled
/// <see cref="System.Net.Http.HttpClient"/>, the call timeout, the classification of a non-success status and of
/// everything else that goes wrong (<see cref="UpstreamFailures"/>), and the ids of answers that carry none.
/// </summary>
/// <remarks>
/// Thread-safe; each adapter owns one and disposes it. The adapter keeps only its vendor's mapping, paths and headers:
/// what must be the same for every vendor (error texts, status classes, <c>retry-after</c> reading, log events,
/// redaction) is done here, once.
/// </remarks>
internal sealed class UpstreamEndpoint : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly TimeSpan _timeout;
    private long _answerCounter;

    /// <param name="providerName">The configured provider name, used in error messages and logs.</param>
    /// <param name="options">The provider's options.</param>
    /// <param name="redactor">Removes credentials from upstream text passed on (this provider's key is always added).</param>
    /// <param name="timeProvider">The clock for the call timeout, answer times and ids.</param>
    /// <param name="logger">The adapter's logger.</param>
    /// <param name="defaultBaseUrl">The BaseUrl when none is configured; null when the provider's kind requires one.</param>
    /// <param name="apiKeyRequired">Whether the provider's kind requires an ApiKey.</param>
    /// <param name="vendorHandler">
    /// The vendor's own handler (headers it rewrites), given the resolved key and put in front of the size limit; null for none.
    /// </param>
    /// <exception cref="InvalidOperationException">
    /// The BaseUrl is missing where the kind requires one or is not an absolute http(s) URL, or a required ApiKey is
    /// missing (or names an unset variable).
    /// </exception>
    public UpstreamEndpoint(
        string providerName, ProviderOptions options, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger,
        string? defaultBaseUrl, bool apiKeyRequired, Func<string?, HttpMessageHandler, DelegatingHandler>? vendorHandler = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(providerName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(redactor);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        ProviderName = providerName;
        TimeProvider = timeProvider;
        _timeout = options.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(options.TimeoutSeconds) : Timeout.InfiniteTimeSpan;
        Failures = new UpstreamFailures(providerName, _timeout, redactor.With(UpstreamRedactor.ForProvider(options)), timeProvider, logger);

        var baseUrl = string.IsNullOrWhiteSpace(options.BaseUrl)
            ? defaultBaseUrl ?? throw new InvalidOperationException(
                $"Gatehouse:Providers:{providerName}:BaseUrl is required for a provider of kind {options.Kind}.")
            : options.BaseUrl;
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"Gatehouse:Providers:{providerName}:BaseUrl must be an absolute http(s) URL.");
        }

        BaseUri = baseUri;
        BaseUrl = baseUrl.TrimEnd('/');

        ApiKey = SecretValue.Resolve(options.ApiKey);
        if (ApiKey is null && apiKeyRequired)
        {
            throw new InvalidOperationException(
                $"Gatehouse:Providers:{providerName}:ApiKey is required for a provider of kind {options.Kind} (a key, or env:NAME of a variable that is set).");
        }

        HttpClient = UpstreamHttpClient.Create(options, vendorHandler is null ? null : inner => vendorHandler(ApiKey, inner));
    }

    /// <summary>The configured provider name.</summary>
    public string ProviderName { get; }

    /// <summary>The BaseUrl as configured (or the default): absolute, http or https.</summary>
    public Uri BaseUri { get; }

    /// <summary>The BaseUrl without its trailing <c>/</c>, for appending the vendor's paths to.</summary>
    public string BaseUrl { get; }

    /// <summary>The resolved key (<c>env:NAME</c> read); null when none is configured and the kind allows that.</summary>
    public string? ApiKey { get; }

    /// <summary>The provider's pooled client, owned by this endpoint.</summary>
    public HttpClient HttpClient { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>Classifies and logs what goes wrong during this provider's calls.</summary>
    public UpstreamFailures Failures { get; }

    /// <summary>The timeout of one call (a stream's included, from the request to its last byte), linked with the caller's token.</summary>
    public CallTimeout StartTimeout(CancellationToken cancellationToken) => new(_timeout, TimeProvider, cancellationToken);

    /// <summary>An id for an answer whose upstream gives none: <c>{prefix}-</c> and hex digits, unique on this silo.</summary>
    public string NewAnswerId(string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{TimeProvider.GetTimestamp():x}{Interlocked.Increment(ref _answerCounter):x}");

    /// <summary>Posts <paramref name="content"/> and returns the response once its headers arrived and its status is a success.</summary>
    /// <param name="uri">The vendor's method URL.</param>
    /// <param name="content">The request body.</param>
    /// <param name="cancellationToken">The call's token (<see cref="CallTimeout.Token"/>).</param>
    /// <param name="classify">The vendor's classification of a non-success answer; <see cref="EnsureSuccessAsync"/>'s default when null.</param>
    /// <exception cref="GatewayException">The upstream answered with a non-success status (logged).</exception>
    public async Task<HttpResponseMessage> PostAsync(
        Uri uri, HttpContent content, CancellationToken cancellationToken, Func<int, string?, string?, GatewayException>? classify = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        var response = await HttpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, cancellationToken, classify).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Throws the classified failure (logged) when <paramref name="response"/>'s status is not a success.</summary>
    /// <param name="response">The upstream's response, its body not yet read.</param>
    /// <param name="cancellationToken">The call's token.</param>
    /// <param name="classify">
    /// The vendor's classification of a non-success answer from its status, the start of its body and its
    /// <c>retry-after</c>, which logs what it returns; null for <see cref="UpstreamFailures.FromHttpStatus"/>.
    /// </param>
    public async Task EnsureSuccessAsync(
        HttpResponseMessage response, CancellationToken cancellationToken, Func<int, string?, string?, GatewayException>? classify = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await UpstreamBodies.ReadStartAsync(response.Content, cancellationToken).ConfigureAwait(false);
        var retryAfter = UpstreamBodies.RetryAfterHeader(response);
        var status = (int)response.StatusCode;
        throw classify is null ? Failures.FromHttpStatus(status, body, retryAfter) : classify(status, body, retryAfter);
    }

    /// <summary>Reads a whole JSON answer; a JSON <c>null</c> is an answer the gateway could not read.</summary>
    public async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            return await JsonSerializer.DeserializeAsync(body, typeInfo, cancellationToken).ConfigureAwait(false)
                ?? throw UpstreamErrors.MalformedResponse(ProviderName);
        }
    }

    /// <summary>A request body of UTF-8 JSON.</summary>
    public static ByteArrayContent JsonContent(byte[] utf8Json)
    {
        var content = new ByteArrayContent(utf8Json);
        content.Headers.ContentType = JsonContentType;
        return content;
    }

    /// <summary>Disposes the events of a stream the caller may have abandoned, ignoring the failures of closing its connection.</summary>
    /// <param name="events">The stream's events.</param>
    /// <param name="isVendorCloseFailure">Recognizes the vendor SDK's own failure types for the same; null when it has none.</param>
    public static async ValueTask DisposeQuietlyAsync<T>(IAsyncEnumerator<T> events, Func<Exception, bool>? isVendorCloseFailure = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        try
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException
            || isVendorCloseFailure?.Invoke(ex) == true)
        {
            // Disposing an abandoned stream closes its connection; a failure to do so changes nothing for the caller,
            // who already has (or has given up on) the answer.
        }
    }

    public void Dispose() => HttpClient.Dispose();
}
