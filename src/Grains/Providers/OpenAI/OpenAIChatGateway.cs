using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;

namespace Gatehouse.Providers.OpenAI;

/// <summary>An <see cref="IChatGateway"/> over OpenAI Chat Completions (OpenAI itself or a compatible server).</summary>
/// <remarks>
/// Thread-safe; one instance per configured provider. It owns one pooled <see cref="HttpClient"/> and one SDK
/// pipeline shared by a <see cref="ChatClient"/> per upstream model. The SDK's own retries are off: retrying and
/// failing over are the router's decisions, and a hidden retry would spend the provider's buckets twice.
/// </remarks>
internal sealed partial class OpenAIChatGateway : IChatGateway, IDisposable
{
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    private readonly string _providerName;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly HttpClient _httpClient;
    private readonly OpenAIClient _client;
    private readonly ConcurrentDictionary<string, ChatClient> _chatClients = new(StringComparer.Ordinal);
    private readonly Func<string, ChatClient> _createChatClient;
    private readonly bool _compatible;

    /// <param name="providerName">The configured provider name, used in error messages and logs.</param>
    /// <param name="options">The provider's options.</param>
    /// <param name="compatible">
    /// An OpenAI-compatible server rather than OpenAI: BaseUrl required, ApiKey optional, and the token limit sent
    /// as <c>max_tokens</c>.
    /// </param>
    /// <param name="timeProvider">The clock for the call timeout.</param>
    /// <param name="logger">The logger.</param>
    public OpenAIChatGateway(string providerName, ProviderOptions options, bool compatible, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(providerName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        _providerName = providerName;
        _compatible = compatible;
        var requireApiKey = !compatible;
        _timeProvider = timeProvider;
        _logger = logger;
        _timeout = options.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(options.TimeoutSeconds) : System.Threading.Timeout.InfiniteTimeSpan;

        var baseUrl = string.IsNullOrWhiteSpace(options.BaseUrl)
            ? requireApiKey ? DefaultBaseUrl : throw new InvalidOperationException(
                $"Gatehouse:Providers:{providerName}:BaseUrl is required for a provider of kind {options.Kind}.")
            : options.BaseUrl;
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"Gatehouse:Providers:{providerName}:BaseUrl must be an absolute http(s) URL.");
        }

        var apiKey = SecretValue.Resolve(options.ApiKey);
        if (apiKey is null && requireApiKey)
        {
            throw new InvalidOperationException(
                $"Gatehouse:Providers:{providerName}:ApiKey is required for a provider of kind {options.Kind} (a key, or env:NAME of a variable that is set).");
        }

        _httpClient = new HttpClient(new SocketsHttpHandler
        {
            // Recycle connections so DNS changes (failover of the upstream's endpoint) are picked up.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = int.MaxValue,
            EnableMultipleHttp2Connections = true,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        })
        {
            // The gateway enforces TimeoutSeconds itself (and tells a timeout from a cancellation); HttpClient's
            // 100 s default would cut long streams short.
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };

        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            RetryPolicy = new ClientRetryPolicy(0),
            Transport = new HttpClientPipelineTransport(_httpClient),
            NetworkTimeout = System.Threading.Timeout.InfiniteTimeSpan,
            UserAgentApplicationId = "gatehouse",
        };

        if (apiKey is not null)
        {
            _client = new OpenAIClient(new ApiKeyCredential(apiKey), clientOptions);
        }
        else
        {
            // A keyless local server must not receive a made-up bearer token (some log or reject it), so the
            // authentication policy is replaced by one that adds nothing. The constructor is experimental only
            // because the policy type is new in System.ClientModel.
#pragma warning disable OPENAI001
            _client = new OpenAIClient(NoAuthenticationPolicy.Instance, clientOptions);
#pragma warning restore OPENAI001
        }

        _createChatClient = _client.GetChatClient;
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chatClient = GetChatClient(request.Model);
        var messages = OpenAIChatMapping.ToOpenAIMessages(request.Messages);
        var options = OpenAIChatMapping.ToOpenAIOptions(request, legacyMaxTokens: _compatible);

        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        try
        {
            var result = await chatClient.CompleteChatAsync(messages, options, timeout.Token).ConfigureAwait(false);
            return OpenAIChatMapping.FromOpenAICompletion(result.Value, request.Model);
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw await TranslateAsync(ex, timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chatClient = GetChatClient(request.Model);
        var messages = OpenAIChatMapping.ToOpenAIMessages(request.Messages);
        var options = OpenAIChatMapping.ToOpenAIOptions(request, legacyMaxTokens: _compatible);

        // TimeoutSeconds bounds the whole stream: a stalled upstream must not hold a caller (or a lease) forever.
        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        var updates = chatClient.CompleteChatStreamingAsync(messages, options, timeout.Token).GetAsyncEnumerator(timeout.Token);
        try
        {
            while (true)
            {
                StreamingChatCompletionUpdate update;
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    update = updates.Current;
                }
                catch (Exception ex) when (ex is not GatewayException)
                {
                    throw await TranslateAsync(ex, timeout, cancellationToken).ConfigureAwait(false);
                }

                if (OpenAIChatMapping.FromOpenAIUpdate(update, request.Model) is { } chunk)
                {
                    yield return chunk;
                }

                // The SDK always asks for usage when streaming (the router needs it to debit token buckets through
                // the response, not the caller's flag); the caller sees it only when they asked for it.
                if (request.IncludeUsage && OpenAIChatMapping.FromOpenAIUsageUpdate(update, request.Model) is { } usageChunk)
                {
                    yield return usageChunk;
                }
            }
        }
        finally
        {
            await DisposeQuietlyAsync(updates).ConfigureAwait(false);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() => _httpClient.Dispose();

    private ChatClient GetChatClient(string model)
    {
        if (string.IsNullOrEmpty(model))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request names no model", "model");
        }

        return _chatClients.GetOrAdd(model, _createChatClient);
    }

    private async ValueTask<Exception> TranslateAsync(Exception exception, CallTimeout timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            // The caller went away: not an upstream failure, and not for the router to fail over.
            return exception as OperationCanceledException ?? new OperationCanceledException(null, exception, cancellationToken);
        }

        if (timeout.TimedOut || exception is OperationCanceledException)
        {
            LogUpstreamTimeout(_logger, _providerName, _timeout.TotalSeconds);
            return UpstreamErrors.Timeout(_providerName, _timeout);
        }

        if (exception is ClientResultException { Status: > 0 } clientResult)
        {
            var (body, retryAfter, retryAfterMs) = await ReadErrorResponseAsync(clientResult).ConfigureAwait(false);
            var error = UpstreamErrors.FromHttpStatus(_providerName, clientResult.Status, body, retryAfter, retryAfterMs, _timeProvider.GetUtcNow());
            LogUpstreamFailed(_logger, _providerName, clientResult.Status, error.Error);
            return error;
        }

        if (UpstreamErrors.IsTransportFailure(exception))
        {
            LogUpstreamUnreachable(_logger, _providerName, exception);
            return UpstreamErrors.FromTransportFailure(_providerName, exception);
        }

        // A body the SDK could not parse, or a status-less ClientResultException without a transport cause.
        LogUpstreamMalformed(_logger, _providerName, exception);
        return UpstreamErrors.MalformedResponse(_providerName);
    }

    private static async ValueTask<(string? Body, string? RetryAfter, string? RetryAfterMs)> ReadErrorResponseAsync(ClientResultException exception)
    {
        var response = exception.GetRawResponse();
        if (response is null)
        {
            return (null, null, null);
        }

        response.Headers.TryGetValue("retry-after", out var retryAfter);
        response.Headers.TryGetValue("retry-after-ms", out var retryAfterMs);
        string? body = null;
        try
        {
            // Error responses of non-streaming calls are buffered; a streaming call's may not be yet.
            var content = await response.BufferContentAsync().ConfigureAwait(false);
            body = content.ToString();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException or OperationCanceledException)
        {
            // Without the body the status alone still classifies the failure.
        }

        return (body, retryAfter, retryAfterMs);
    }

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<StreamingChatCompletionUpdate> updates)
    {
        try
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            // Disposing an abandoned stream closes its connection; a failure to do so cleanly changes nothing for
            // the caller, who already has (or has given up on) the answer.
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamTimedOut, Level = LogLevel.Warning, Message = "Provider {ProviderName} did not answer within {TimeoutSeconds} s")]
    private static partial void LogUpstreamTimeout(ILogger logger, string providerName, double timeoutSeconds);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamFailed, Level = LogLevel.Warning, Message = "Provider {ProviderName} failed with HTTP {Status} ({Error})")]
    private static partial void LogUpstreamFailed(ILogger logger, string providerName, int status, GatewayError error);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamUnreachable, Level = LogLevel.Warning, Message = "Provider {ProviderName} could not be reached")]
    private static partial void LogUpstreamUnreachable(ILogger logger, string providerName, Exception exception);

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamResponseUnreadable, Level = LogLevel.Warning, Message = "Provider {ProviderName} sent a response that could not be read")]
    private static partial void LogUpstreamMalformed(ILogger logger, string providerName, Exception exception);

    /// <summary>The caller's token linked with the provider's timeout, remembering which of the two fired.</summary>
    private sealed class CallTimeout : IDisposable
    {
        private readonly CancellationTokenSource? _timeoutSource;
        private readonly CancellationTokenSource? _linkedSource;

        public CallTimeout(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
        {
            if (timeout == System.Threading.Timeout.InfiniteTimeSpan)
            {
                Token = cancellationToken;
                return;
            }

            _timeoutSource = new CancellationTokenSource(timeout, timeProvider);
            _linkedSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeoutSource.Token);
            Token = _linkedSource.Token;
        }

        public CancellationToken Token { get; }

        public bool TimedOut => _timeoutSource?.IsCancellationRequested == true;

        public void Dispose()
        {
            _linkedSource?.Dispose();
            _timeoutSource?.Dispose();
        }
    }

    /// <summary>Adds no credential: for OpenAI-compatible servers configured without a key.</summary>
    private sealed class NoAuthenticationPolicy : AuthenticationPolicy
    {
        public static readonly NoAuthenticationPolicy Instance = new();

        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNext(message, pipeline, currentIndex);

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNextAsync(message, pipeline, currentIndex);
    }
}
