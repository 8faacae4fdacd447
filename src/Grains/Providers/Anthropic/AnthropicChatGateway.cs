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
/// read as raw JSON (see <see cref="AnthropicChatMapping"/>). The SDK completes a stream quietly whatever its last
/// event, so the adapter checks for <c>message_stop</c> itself.
/// </remarks>
internal sealed partial class AnthropicChatGateway : IChatGateway, IDisposable
{
    private const string ApiKeyHeader = "x-api-key";
    private const string VersionHeader = "anthropic-version";
    private static readonly IReadOnlyDictionary<string, JsonElement> NoParameters = new Dictionary<string, JsonElement>();

    /// <summary>
    /// What the wire saw of the call in flight on this async flow: the SDK's exceptions carry the status and body but
    /// not <c>retry-after</c>, nor whether the response had started, which <see cref="AnthropicWireHandler"/> records here.
    /// </summary>
    private static readonly AsyncLocal<CallState?> CurrentCall = new();

    private readonly UpstreamEndpoint _upstream;
    private readonly int _defaultMaxTokens;
    private readonly AnthropicClient _client;

    public AnthropicChatGateway(string providerName, ProviderOptions options, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger)
    {
        // The required key is never null by the time the handler is made.
        _upstream = new UpstreamEndpoint(
            providerName, options, redactor, timeProvider, logger, AnthropicConstants.DefaultBaseUrl, apiKeyRequired: true,
            (apiKey, inner) => new AnthropicWireHandler(apiKey!, inner));
        _defaultMaxTokens = options.DefaultMaxTokens is > 0 and var configured ? configured : AnthropicConstants.DefaultMaxTokens;

        _client = new AnthropicClient(new ClientOptions
        {
            BaseUrl = _upstream.BaseUrl,
            ApiKey = _upstream.ApiKey,
            HttpClient = _upstream.HttpClient,
            MaxRetries = 0,
            Timeout = TimeSpan.FromDays(1),
        });
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parameters = Parameters(request);

        using var timeout = _upstream.StartTimeout(cancellationToken);
        var call = CurrentCall.Value = new CallState();
        IReadOnlyDictionary<string, JsonElement> raw;
        try
        {
            raw = (await _client.Messages.Create(parameters, timeout.Token).ConfigureAwait(false)).RawData;
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _upstream.Failures.Translate(ex, timeout, e => ClassifyVendorError(e, call), call.ResponseStarted);
        }
        finally
        {
            CurrentCall.Value = null;
        }

        // A 200 whose body is Anthropic's error envelope (a proxy in front of it may answer so) is that error; a body
        // with no content at all is no answer, however the SDK read it.
        if (raw.TryGetValue("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "error" || raw.ContainsKey("error"))
        {
            throw _upstream.Failures.FromStreamError(JsonSerializer.Serialize(raw));
        }

        if (!raw.TryGetValue("content", out var content) || content.ValueKind != JsonValueKind.Array)
        {
            throw _upstream.Failures.Malformed("the message has no content");
        }

        return AnthropicChatMapping.FromAnthropicMessage(raw, request.Model, _upstream.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parameters = Parameters(request);
        var mapper = new AnthropicStreamMapper(request.Model, _upstream.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), request.IncludeUsage);

        // TimeoutSeconds bounds the whole stream: a stalled upstream must not hold a caller (or a lease) forever.
        using var timeout = _upstream.StartTimeout(cancellationToken);
        var call = new CallState { Streaming = true };
        var events = _client.Messages.CreateStreaming(parameters, timeout.Token).GetAsyncEnumerator(timeout.Token);
        try
        {
            while (true)
            {
                ChatChunk? chunk;
                try
                {
                    CurrentCall.Value = call;
                    if (!await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        if (call.NotAStream is { } notAStream)
                        {
                            throw _upstream.Failures.NotAStream(notAStream.ContentType, notAStream.Body);
                        }

                        // Without message_stop the answer may be cut anywhere: completing it here would pass a truncated
                        // answer off as whole, and the cache would keep it.
                        if (!mapper.Stopped)
                        {
                            throw _upstream.Failures.EndedBeforeFinalEvent();
                        }

                        yield break;
                    }

                    chunk = mapper.Map(events.Current.Json);
                }
                catch (Exception ex) when (ex is not GatewayException)
                {
                    throw _upstream.Failures.Translate(ex, timeout, e => ClassifyVendorError(e, call), call.ResponseStarted);
                }
                finally
                {
                    CurrentCall.Value = null;
                }

                if (chunk is not null)
                {
                    yield return chunk;
                }
            }
        }
        finally
        {
            await UpstreamEndpoint.DisposeQuietlyAsync(events, static ex => ex is AnthropicException).ConfigureAwait(false);
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
        _upstream.Dispose();
    }

    private MessageCreateParams Parameters(ChatRequest request) =>
        MessageCreateParams.FromRawUnchecked(NoParameters, NoParameters, AnthropicChatMapping.ToAnthropicBody(request, _defaultMaxTokens));

    /// <summary>The SDK's own failure types: HTTP errors, error events inside a started stream, and its I/O failures.</summary>
    private GatewayException? ClassifyVendorError(Exception exception, CallState call) => exception switch
    {
        AnthropicApiException api => _upstream.Failures.ClassifyStatus((int)api.StatusCode, api.ResponseBody, call.RetryAfter),
        // An error event inside a stream that had started with 200 (e.g. overloaded_error mid-answer).
        AnthropicSseException sse => UpstreamErrors.FromStreamError(
            _upstream.ProviderName, sse.Body.ValueKind == JsonValueKind.Undefined ? null : sse.Body.GetRawText(), _upstream.Failures.Redactor),
        AnthropicIOException => call.ResponseStarted
            ? UpstreamErrors.ConnectionBroken(_upstream.ProviderName)
            : UpstreamErrors.FromTransportFailure(_upstream.ProviderName, exception),
        _ => null,
    };

    /// <summary>One call as the wire saw it; written by <see cref="AnthropicWireHandler"/>, read by the adapter after the SDK returns or throws.</summary>
    private sealed class CallState
    {
        /// <summary>Set by the adapter: the call is a stream, whose 200 answer must be an event stream.</summary>
        public bool Streaming { get; init; }

        public string? RetryAfter { get; set; }

        /// <summary>The response headers arrived: a transport failure from now on broke the answer.</summary>
        public bool ResponseStarted { get; set; }

        /// <summary>A 200 answer to a stream that was not an event stream: its media type and the start of its body.</summary>
        public (string? ContentType, string? Body)? NotAStream { get; set; }
    }

    /// <summary>
    /// Puts the key in Anthropic's own <c>x-api-key</c> header with the pinned <c>anthropic-version</c>, and records
    /// for the call that made it (see <see cref="CurrentCall"/>) that its response started, the <c>retry-after</c> of a
    /// failure, and a 200 answer to a stream that is not one (whose body it then takes away from the SDK, which would
    /// read it as an empty stream).
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
            if (CurrentCall.Value is not { } call)
            {
                return response;
            }

            call.ResponseStarted = true;
            if (!response.IsSuccessStatusCode)
            {
                call.RetryAfter = UpstreamBodies.RetryAfterHeader(response);
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (call.Streaming && response.IsSuccessStatusCode && mediaType is not null
                && !string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                var body = await UpstreamBodies.ReadStartAsync(response.Content, cancellationToken).ConfigureAwait(false);
                call.NotAStream = (mediaType, body);
                response.Content.Dispose();
                response.Content = new ByteArrayContent([]) { Headers = { ContentType = new("text/event-stream") } };
            }

            return response;
        }
    }
}
