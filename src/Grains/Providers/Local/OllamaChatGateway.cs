using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers.Local;

/// <summary>
/// An <see cref="IChatGateway"/> over Ollama's native <c>/api/chat</c> (JSON, and NDJSON when streaming) and an
/// <see cref="IEmbeddingGateway"/> over its <c>/api/embed</c>.
/// </summary>
/// <remarks>
/// Thread-safe; one instance per configured provider, owning one pooled <see cref="HttpClient"/>. No SDK: the request
/// is written with <see cref="Utf8JsonWriter"/> and answers are read with source-generated System.Text.Json.
/// The key is optional (a local server has none); when set it is sent as <c>Authorization: Bearer</c>, as an
/// authenticating proxy in front of Ollama expects.
/// </remarks>
internal sealed partial class OllamaChatGateway : IChatGateway, IEmbeddingGateway, IDisposable
{
    public const string DefaultBaseUrl = "http://127.0.0.1:11434";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly string _providerName;
    private readonly TimeSpan _timeout;
    private readonly UpstreamFailures _failures;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly HttpClient _httpClient;
    private readonly Uri _chatUri;
    private readonly Uri _embedUri;
    private long _answerCounter;

    public OllamaChatGateway(string providerName, ProviderOptions options, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(providerName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(redactor);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        _providerName = providerName;
        _timeProvider = timeProvider;
        _logger = logger;
        _timeout = options.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(options.TimeoutSeconds) : System.Threading.Timeout.InfiniteTimeSpan;
        _failures = new UpstreamFailures(providerName, _timeout, redactor.With(UpstreamRedactor.ForProvider(options)), logger);

        var baseUrl = string.IsNullOrWhiteSpace(options.BaseUrl) ? DefaultBaseUrl : options.BaseUrl.TrimEnd('/');
        if (!Uri.TryCreate(baseUrl + "/api/chat", UriKind.Absolute, out var chatUri) || (chatUri.Scheme != Uri.UriSchemeHttp && chatUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"Gatehouse:Providers:{providerName}:BaseUrl must be an absolute http(s) URL.");
        }

        _chatUri = chatUri;
        _embedUri = new Uri(baseUrl + "/api/embed");
        _httpClient = UpstreamHttpClient.Create(options);
        if (SecretValue.Resolve(options.ApiKey) is { } apiKey)
        {
            _httpClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var content = Body(request, stream: false);
        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, _chatUri) { Content = content };
            using var response = await _httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, timeout.Token).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var answer = await JsonSerializer.DeserializeAsync(body, OllamaJsonContext.Default.OllamaChatResponse, timeout.Token).ConfigureAwait(false)
                ?? throw UpstreamErrors.MalformedResponse(_providerName);
            if (answer.Error is not null)
            {
                // A 200 carrying Ollama's error object is that error, not an empty answer.
                throw _failures.FromStreamError(JsonSerializer.Serialize(answer, OllamaJsonContext.Default.OllamaChatResponse));
            }

            if (!answer.Done)
            {
                // Ollama marks every complete answer done; one that is not may be cut anywhere.
                UpstreamLog.LogUpstreamAnswerIncomplete(_logger, _providerName, "the answer is not marked done");
                throw UpstreamErrors.MalformedResponse(_providerName);
            }

            return OllamaChatMapping.FromOllamaResponse(answer, request.Model, NewId(), _timeProvider.GetUtcNow().ToUnixTimeSeconds());
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _failures.Translate(ex, timeout, cancellationToken);
        }
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var content = Body(request, stream: true);
        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        var id = NewId();
        var created = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        HttpResponseMessage? response = null;
        StreamReader? reader = null;
        try
        {
            try
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, _chatUri) { Content = content };
                response = await _httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                await EnsureSuccessAsync(response, timeout.Token).ConfigureAwait(false);
                if (response.Content.Headers.ContentType?.MediaType is { } mediaType && !IsNdjsonOrJson(mediaType))
                {
                    throw _failures.NotAStream(mediaType, await UpstreamBodies.ReadStartAsync(response.Content, timeout.Token).ConfigureAwait(false));
                }

                reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not GatewayException)
            {
                throw _failures.Translate(ex, timeout, cancellationToken);
            }

            var first = true;
            var toolCalls = 0;
            while (true)
            {
                OllamaChatResponse? line;
                try
                {
                    var text = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
                    if (text is null)
                    {
                        // Ollama always ends with a done line; a stream that stops short was cut.
                        throw _failures.EndedBeforeFinalEvent();
                    }

                    if (text.Length == 0)
                    {
                        continue;
                    }

                    line = JsonSerializer.Deserialize(text, OllamaJsonContext.Default.OllamaChatResponse);
                    if (line?.Error is not null)
                    {
                        throw _failures.FromStreamError(text);
                    }
                }
                catch (Exception ex) when (ex is not GatewayException)
                {
                    throw _failures.Translate(ex, timeout, cancellationToken, answerStarted: true);
                }

                if (line is null)
                {
                    continue;
                }

                var deltas = OllamaChatMapping.FromOllamaToolCallDeltas(line.Message?.ToolCalls, id, toolCalls);
                toolCalls += deltas.Length;
                var chunk = new ChatChunk
                {
                    Id = id,
                    Model = string.IsNullOrEmpty(line.Model) ? request.Model : line.Model,
                    Created = created,
                    Role = first ? ChatRole.Assistant : null,
                    TextDelta = string.IsNullOrEmpty(line.Message?.Content) ? null : line.Message.Content,
                    ToolCallDeltas = deltas,
                    FinishReason = line.Done ? OllamaChatMapping.FromOllamaDoneReason(line.DoneReason, toolCalls > 0) : null,
                };
                if (first || chunk.TextDelta is not null || !deltas.IsEmpty || chunk.FinishReason is not null)
                {
                    first = false;
                    yield return chunk;
                }

                if (line.Done)
                {
                    if (request.IncludeUsage && OllamaChatMapping.FromOllamaUsage(line) is { } usage)
                    {
                        yield return new ChatChunk { Id = id, Model = chunk.Model, Created = created, Usage = usage };
                    }

                    yield break;
                }
            }
        }
        finally
        {
            reader?.Dispose();
            response?.Dispose();
        }
    }

    public async Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Inputs.IsDefaultOrEmpty)
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request has no input to embed", "input");
        }

        using var content = JsonContent(
            new OllamaEmbedRequest { Model = request.Model, Input = request.Inputs, Dimensions = request.Dimensions },
            OllamaJsonContext.Default.OllamaEmbedRequest);
        using var timeout = new CallTimeout(_timeout, _timeProvider, cancellationToken);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, _embedUri) { Content = content };
            using var response = await _httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, timeout.Token).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var answer = await JsonSerializer.DeserializeAsync(body, OllamaJsonContext.Default.OllamaEmbedResponse, timeout.Token).ConfigureAwait(false)
                ?? throw UpstreamErrors.MalformedResponse(_providerName);
            if (answer.Error is not null)
            {
                throw _failures.FromStreamError(JsonSerializer.Serialize(answer, OllamaJsonContext.Default.OllamaEmbedResponse));
            }

            // One vector too few would shift every later one onto the wrong text.
            if (answer.Embeddings is not { } vectors || vectors.Count != request.Inputs.Length || vectors.Any(v => v is null))
            {
                UpstreamLog.LogUpstreamMalformed(_logger, _providerName,
                    $"{answer.Embeddings?.Count ?? 0} embeddings for {request.Inputs.Length} inputs");
                throw UpstreamErrors.MalformedResponse(_providerName);
            }

            return new EmbeddingResponse
            {
                Model = string.IsNullOrEmpty(answer.Model) ? request.Model : answer.Model,
                Vectors = [.. vectors],
                Usage = answer.PromptEvalCount is { } tokens ? new Usage { PromptTokens = tokens, CompletionTokens = 0 } : null,
            };
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _failures.Translate(ex, timeout, cancellationToken);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() => _httpClient.Dispose();

    private static ByteArrayContent Body(ChatRequest request, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            OllamaChatMapping.WriteRequest(writer, request, stream);
        }

        var content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = JsonContentType;
        return content;
    }

    private static ByteArrayContent JsonContent<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
        content.Headers.ContentType = JsonContentType;
        return content;
    }

    /// <summary>Ollama streams NDJSON; a server that answers the whole object at once sends JSON, which reads the same way.</summary>
    private static bool IsNdjsonOrJson(string mediaType) =>
        mediaType.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    private string NewId() =>
        string.Create(CultureInfo.InvariantCulture, $"ollama-{_timeProvider.GetTimestamp():x}{Interlocked.Increment(ref _answerCounter):x}");

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await UpstreamBodies.ReadStartAsync(response.Content, cancellationToken).ConfigureAwait(false);
        var retryAfter = UpstreamBodies.RetryAfterHeader(response);
        var error = UpstreamErrors.FromHttpStatus(_providerName, (int)response.StatusCode, body, retryAfter, null, _timeProvider.GetUtcNow(), _failures.Redactor);
        UpstreamLog.LogUpstreamFailed(_logger, _providerName, (int)response.StatusCode, error.Error);
        throw error;
    }

}
