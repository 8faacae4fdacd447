using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Gatehouse.Providers.OpenAI;

/// <summary>
/// An <see cref="IChatGateway"/> over OpenAI Chat Completions and an <see cref="IEmbeddingGateway"/> over its Embeddings
/// API (OpenAI itself or a compatible server).
/// </summary>
/// <remarks>
/// Thread-safe; one instance per configured provider. It owns one pooled <see cref="HttpClient"/> and one SDK
/// <see cref="ChatClient"/> and <see cref="EmbeddingClient"/>, called through their protocol methods: the SDK keeps the
/// transport, the endpoint and the authentication, while the bodies are written by <see cref="OpenAIWireWriter"/> and
/// <see cref="OpenAIEmbeddingWire"/> and the answers read by <see cref="OpenAIWireReader"/> and
/// <see cref="OpenAIEmbeddingWire"/>, with no SDK model objects on the hot path. The SDK's own retries are off: retrying
/// and failing over are the router's decisions, and a hidden retry would spend the provider's buckets twice.
/// </remarks>
internal sealed partial class OpenAIChatGateway : IChatGateway, IEmbeddingGateway, IDisposable
{
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    /// <summary>The model the SDK's chat client is created with; unused by its protocol methods.</summary>
    private const string ProtocolModelPlaceholder = "unused";

    private readonly UpstreamEndpoint _upstream;
    private readonly ChatClient _chatClient;
    private readonly EmbeddingClient _embeddingClient;
    private readonly bool _compatible;

    /// <param name="providerName">The configured provider name, used in error messages and logs.</param>
    /// <param name="options">The provider's options.</param>
    /// <param name="compatible">
    /// An OpenAI-compatible server rather than OpenAI: BaseUrl required, ApiKey optional, and the token limit sent
    /// as <c>max_tokens</c>.
    /// </param>
    /// <param name="redactor">Removes credentials from upstream text passed on (this provider's key is always added).</param>
    /// <param name="timeProvider">The clock for the call timeout.</param>
    /// <param name="logger">The logger.</param>
    public OpenAIChatGateway(string providerName, ProviderOptions options, bool compatible, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger)
    {
        _compatible = compatible;
        _upstream = new UpstreamEndpoint(
            providerName, options, redactor, timeProvider, logger, defaultBaseUrl: compatible ? null : DefaultBaseUrl, apiKeyRequired: !compatible);

        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = _upstream.BaseUri,
            RetryPolicy = new ClientRetryPolicy(0),
            Transport = new HttpClientPipelineTransport(_upstream.HttpClient),
            NetworkTimeout = System.Threading.Timeout.InfiniteTimeSpan,
            UserAgentApplicationId = "gatehouse",
        };

        OpenAIClient client;
        if (_upstream.ApiKey is { } apiKey)
        {
            client = new OpenAIClient(new ApiKeyCredential(apiKey), clientOptions);
        }
        else
        {
            // A keyless local server must not receive a made-up bearer token (some log or reject it), so the
            // authentication policy is replaced by one that adds nothing. The constructor is experimental only
            // because the policy type is new in System.ClientModel.
#pragma warning disable OPENAI001
            client = new OpenAIClient(NoAuthenticationPolicy.Instance, clientOptions);
#pragma warning restore OPENAI001
        }

        // The protocol method posts the body as written, model included: the client's own model is never sent, so one
        // client serves every upstream model of the provider.
        _chatClient = client.GetChatClient(ProtocolModelPlaceholder);
        _embeddingClient = client.GetEmbeddingClient(ProtocolModelPlaceholder);
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireModel(request.Model);
        using var content = OpenAIWireWriter.CreateContent(request, stream: false, legacyMaxTokens: _compatible);

        return await SendWholeAsync(
            (content, options) => _chatClient.CompleteChatAsync(content, options),
            content,
            (body, r) => OpenAIWireReader.ReadCompletion(body, r.Model),
            request,
            static ex => ex is JsonException,
            cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireModel(request.Model);
        using var content = OpenAIWireWriter.CreateContent(request, stream: true, legacyMaxTokens: _compatible);

        // TimeoutSeconds bounds the whole stream: a stalled upstream must not hold a caller (or a lease) forever.
        using var timeout = _upstream.StartTimeout(cancellationToken);
        PipelineResponse response;
        try
        {
            var result = await _chatClient.CompleteChatAsync(content, RequestOptionsFor(timeout.Token, stream: true)).ConfigureAwait(false);
            response = result.GetRawResponse();
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _upstream.Failures.Translate(ex, timeout);
        }

        using (response)
        {
            if (response.IsError)
            {
                throw FromErrorResponse(response, await ReadErrorBodyAsync(response, timeout.Token).ConfigureAwait(false));
            }

            if (!IsEventStream(response))
            {
                response.Headers.TryGetValue("Content-Type", out var contentType);
                var start = response.ContentStream is { } body ? await UpstreamBodies.ReadStartAsync(body, timeout.Token).ConfigureAwait(false) : null;
                throw _upstream.Failures.NotAStream(contentType, start);
            }

            var model = request.Model;
            var events = SseParser.Create(
                    response.ContentStream ?? Stream.Null,
                    (_, data) => data.SequenceEqual("[DONE]"u8) ? OpenAIWireReader.StreamEvent.Done : OpenAIWireReader.ReadStreamEvent(data, model))
                .EnumerateAsync(timeout.Token)
                .GetAsyncEnumerator(timeout.Token);
            var finished = false;
            try
            {
                while (true)
                {
                    OpenAIWireReader.StreamEvent update;
                    try
                    {
                        if (!await events.MoveNextAsync().ConfigureAwait(false))
                        {
                            // Without a finish_reason or [DONE] the answer may be cut anywhere: completing it here would
                            // pass a truncated answer off as whole, and the cache would keep it.
                            if (!finished)
                            {
                                throw _upstream.Failures.EndedBeforeFinalEvent();
                            }

                            yield break;
                        }

                        update = events.Current.Data;
                    }
                    catch (Exception ex) when (ex is not GatewayException)
                    {
                        throw _upstream.Failures.Translate(ex, timeout, answerStarted: true);
                    }

                    if (update.IsDone)
                    {
                        yield break;
                    }

                    if (update.ErrorJson is { } errorJson)
                    {
                        // An error reported inside a stream that had started with 200.
                        throw _upstream.Failures.FromStreamError(errorJson);
                    }

                    if (update.Chunk is { } chunk)
                    {
                        finished |= chunk.FinishReason is not null;
                        yield return chunk;
                    }

                    // Usage is always asked for when streaming (the router needs it to debit token buckets through the
                    // response, not the caller's flag); the caller sees it only when they asked for it.
                    if (request.IncludeUsage && update.UsageChunk is { } usageChunk)
                    {
                        yield return usageChunk;
                    }
                }
            }
            finally
            {
                await UpstreamEndpoint.DisposeQuietlyAsync(events).ConfigureAwait(false);
            }
        }
    }

    public async Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireModel(request.Model);
        if (request.Inputs.IsDefaultOrEmpty)
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request has no input to embed", "input");
        }

        // base64 is under half the size of decimal floats (5⅓ characters a value against 10 to 12), so OpenAI is asked
        // for it. OpenAI-compatible servers are asked for floats, the one format all of them serve: base64 came later and
        // not every server implements it.
        using var content = OpenAIEmbeddingWire.CreateContent(request, _compatible ? OpenAIEmbeddingWire.FloatEncoding : OpenAIEmbeddingWire.Base64Encoding);

        return await SendWholeAsync(
            (content, options) => _embeddingClient.GenerateEmbeddingsAsync(content, options),
            content,
            (body, r) => OpenAIEmbeddingWire.ReadResponse(body, r.Model, r.Inputs.Length),
            request,
            static ex => ex is JsonException or FormatException,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One call answered by a whole JSON body: sent within the provider's timeout, failures translated, the body read
    /// by <paramref name="read"/> (a malformed one is a retryable failure, logged), and a 200 whose body is an error
    /// envelope (some compatible servers and proxies answer so) reported as that error.
    /// </summary>
    private async Task<TAnswer> SendWholeAsync<TRequest, TAnswer>(
        Func<BinaryContent, RequestOptions, Task<ClientResult>> send,
        BinaryContent content,
        WholeAnswerReader<TRequest, TAnswer> read,
        TRequest request,
        Func<Exception, bool> isMalformed,
        CancellationToken cancellationToken)
        where TAnswer : class
    {
        using var timeout = _upstream.StartTimeout(cancellationToken);
        PipelineResponse response;
        try
        {
            var result = await send(content, RequestOptionsFor(timeout.Token, stream: false)).ConfigureAwait(false);
            response = result.GetRawResponse();
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _upstream.Failures.Translate(ex, timeout);
        }

        using (response)
        {
            if (response.IsError)
            {
                throw FromErrorResponse(response, response.Content.ToString());
            }

            TAnswer? answer;
            try
            {
                answer = read(response.Content.ToMemory().Span, request);
            }
            catch (Exception ex) when (isMalformed(ex))
            {
                throw _upstream.Failures.Malformed(_upstream.Failures.Describe(ex));
            }

            return answer ?? throw _upstream.Failures.FromStreamError(response.Content.ToString());
        }
    }

    private delegate TAnswer? WholeAnswerReader<in TRequest, out TAnswer>(ReadOnlySpan<byte> body, TRequest request)
        where TAnswer : class;

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() => _upstream.Dispose();

    private static void RequireModel(string model)
    {
        if (string.IsNullOrEmpty(model))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request names no model", "model");
        }
    }

    /// <summary>
    /// Options for one protocol call: non-success statuses come back as responses (classified here, with no exception
    /// thrown and caught on the way), and a stream's body is left unbuffered to be read as it arrives.
    /// </summary>
    private static RequestOptions RequestOptionsFor(CancellationToken cancellationToken, bool stream) => new()
    {
        CancellationToken = cancellationToken,
        ErrorOptions = ClientErrorBehaviors.NoThrow,
        BufferResponse = !stream,
    };

    private GatewayException FromErrorResponse(PipelineResponse response, string? body)
    {
        response.Headers.TryGetValue("retry-after", out var retryAfter);
        response.Headers.TryGetValue("retry-after-ms", out var retryAfterMs);
        return _upstream.Failures.FromHttpStatus(response.Status, body, retryAfter, retryAfterMs);
    }

    /// <summary>
    /// Whether a 200 answer to a streaming request is an event stream. A missing Content-Type is given the benefit of the
    /// doubt (a few compatible servers omit it; a body that is not SSE then ends without its final event anyway).
    /// </summary>
    private static bool IsEventStream(PipelineResponse response) =>
        !response.Headers.TryGetValue("Content-Type", out var contentType)
        || string.IsNullOrWhiteSpace(contentType)
        || contentType.TrimStart().StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>The body of an unbuffered (streaming) error response; null when it cannot be read.</summary>
    private static async ValueTask<string?> ReadErrorBodyAsync(PipelineResponse response, CancellationToken cancellationToken)
    {
        try
        {
            var content = await response.BufferContentAsync(cancellationToken).ConfigureAwait(false);
            return content.ToString();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException or OperationCanceledException)
        {
            // Without the body the status alone still classifies the failure.
            return null;
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
