using System.Buffers;
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

    /// <summary>The prefix of the ids the adapter gives answers: Ollama's carry none.</summary>
    private const string IdPrefix = "ollama";

    private readonly UpstreamEndpoint _upstream;
    private readonly Uri _chatUri;
    private readonly Uri _embedUri;

    public OllamaChatGateway(string providerName, ProviderOptions options, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger)
    {
        _upstream = new UpstreamEndpoint(providerName, options, redactor, timeProvider, logger, DefaultBaseUrl, apiKeyRequired: false);
        _chatUri = new Uri(_upstream.BaseUrl + "/api/chat");
        _embedUri = new Uri(_upstream.BaseUrl + "/api/embed");
        if (_upstream.ApiKey is { } apiKey)
        {
            _upstream.HttpClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var content = Body(request, stream: false);
        using var timeout = _upstream.StartTimeout(cancellationToken);
        try
        {
            using var response = await _upstream.PostAsync(_chatUri, content, timeout.Token).ConfigureAwait(false);
            var answer = await _upstream.ReadJsonAsync(response, OllamaJsonContext.Default.OllamaChatResponse, timeout.Token).ConfigureAwait(false);
            if (answer.Error is not null)
            {
                // A 200 carrying Ollama's error object is that error, not an empty answer.
                throw _upstream.Failures.FromStreamError(JsonSerializer.Serialize(answer, OllamaJsonContext.Default.OllamaChatResponse));
            }

            if (!answer.Done)
            {
                // Ollama marks every complete answer done; one that is not may be cut anywhere.
                throw _upstream.Failures.Incomplete("the answer is not marked done");
            }

            return OllamaChatMapping.FromOllamaResponse(
                answer, request.Model, _upstream.NewAnswerId(IdPrefix), _upstream.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _upstream.Failures.Translate(ex, timeout);
        }
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var content = Body(request, stream: true);
        using var timeout = _upstream.StartTimeout(cancellationToken);
        var id = _upstream.NewAnswerId(IdPrefix);
        var created = _upstream.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        HttpResponseMessage? response = null;
        StreamReader? reader = null;
        try
        {
            try
            {
                response = await _upstream.PostAsync(_chatUri, content, timeout.Token).ConfigureAwait(false);
                if (response.Content.Headers.ContentType?.MediaType is { } mediaType && !IsNdjsonOrJson(mediaType))
                {
                    throw _upstream.Failures.NotAStream(mediaType, await UpstreamBodies.ReadStartAsync(response.Content, timeout.Token).ConfigureAwait(false));
                }

                reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not GatewayException)
            {
                throw _upstream.Failures.Translate(ex, timeout);
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
                        throw _upstream.Failures.EndedBeforeFinalEvent();
                    }

                    if (text.Length == 0)
                    {
                        continue;
                    }

                    line = JsonSerializer.Deserialize(text, OllamaJsonContext.Default.OllamaChatResponse);
                    if (line?.Error is not null)
                    {
                        throw _upstream.Failures.FromStreamError(text);
                    }
                }
                catch (Exception ex) when (ex is not GatewayException)
                {
                    throw _upstream.Failures.Translate(ex, timeout, answerStarted: true);
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

        using var content = UpstreamEndpoint.JsonContent(JsonSerializer.SerializeToUtf8Bytes(
            new OllamaEmbedRequest { Model = request.Model, Input = request.Inputs, Dimensions = request.Dimensions },
            OllamaJsonContext.Default.OllamaEmbedRequest));
        using var timeout = _upstream.StartTimeout(cancellationToken);
        try
        {
            using var response = await _upstream.PostAsync(_embedUri, content, timeout.Token).ConfigureAwait(false);
            var answer = await _upstream.ReadJsonAsync(response, OllamaJsonContext.Default.OllamaEmbedResponse, timeout.Token).ConfigureAwait(false);
            if (answer.Error is not null)
            {
                throw _upstream.Failures.FromStreamError(JsonSerializer.Serialize(answer, OllamaJsonContext.Default.OllamaEmbedResponse));
            }

            // One vector too few would shift every later one onto the wrong text.
            if (answer.Embeddings is not { } vectors || vectors.Count != request.Inputs.Length || vectors.Any(v => v is null))
            {
                throw _upstream.Failures.Malformed($"{answer.Embeddings?.Count ?? 0} embeddings for {request.Inputs.Length} inputs");
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
            throw _upstream.Failures.Translate(ex, timeout);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() => _upstream.Dispose();

    private static ByteArrayContent Body(ChatRequest request, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            OllamaChatMapping.WriteRequest(writer, request, stream);
        }

        return UpstreamEndpoint.JsonContent(buffer.WrittenSpan.ToArray());
    }

    /// <summary>Ollama streams NDJSON; a server that answers the whole object at once sends JSON, which reads the same way.</summary>
    private static bool IsNdjsonOrJson(string mediaType) =>
        mediaType.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
}
