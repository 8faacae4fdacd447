using System.Buffers;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Providers.Gemini;

/// <summary>
/// An <see cref="IChatGateway"/> over Google's native Gemini API: <c>generateContent</c>, and <c>streamGenerateContent?alt=sse</c>
/// when streaming; and an <see cref="IEmbeddingGateway"/> over <c>embedContent</c> (one input) and <c>batchEmbedContents</c> (several).
/// </summary>
/// <remarks>
/// Thread-safe; one instance per configured provider, owning one pooled <see cref="HttpClient"/>. No SDK: the request
/// is written with <see cref="Utf8JsonWriter"/> (<see cref="GeminiChatMapping"/>) and answers are read with
/// source-generated System.Text.Json (<see cref="GeminiJsonContext"/>). The key goes out only in the
/// <c>x-goog-api-key</c> header. Google's errors are classified by HTTP status as every adapter's are, with two
/// Google specifics: the <c>RetryInfo</c> detail stands in for a missing <c>retry-after</c>, and a 400 whose
/// <c>ErrorInfo</c> says the key is invalid (Google's answer to a bad key) is an auth failure, not the caller's fault.
/// </remarks>
internal sealed partial class GeminiChatGateway : IChatGateway, IEmbeddingGateway, IDisposable
{
    /// <summary>The prefix of the ids the adapter gives answers: Gemini's carry none.</summary>
    private const string IdPrefix = "gemini";

    private readonly UpstreamEndpoint _upstream;
    private readonly ILogger _logger;
    private readonly string _modelsUrl;

    public GeminiChatGateway(string providerName, ProviderOptions options, UpstreamRedactor redactor, TimeProvider timeProvider, ILogger logger)
    {
        _upstream = new UpstreamEndpoint(providerName, options, redactor, timeProvider, logger, GeminiConstants.DefaultBaseUrl, apiKeyRequired: true);
        _logger = logger;
        _modelsUrl = (EndsWithVersion(_upstream.BaseUri) ? _upstream.BaseUrl : _upstream.BaseUrl + "/" + GeminiConstants.ApiVersion) + "/models/";
        _upstream.HttpClient.DefaultRequestHeaders.TryAddWithoutValidation(GeminiConstants.ApiKeyHeader, _upstream.ApiKey);
    }

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = MethodUri(request.Model, ":generateContent");
        using var content = Body(request);
        using var timeout = _upstream.StartTimeout(cancellationToken);
        GeminiResponse answer;
        try
        {
            using var response = await _upstream.PostAsync(uri, content, timeout.Token, FromErrorBody).ConfigureAwait(false);
            answer = await _upstream.ReadJsonAsync(response, GeminiJsonContext.Default.GeminiResponse, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _upstream.Failures.Translate(ex, timeout);
        }

        if (answer.Error is not null)
        {
            // A 200 carrying Google's error envelope (a proxy may answer so) is that error, not an empty answer.
            throw FromErrorBody(0, JsonSerializer.Serialize(answer, GeminiJsonContext.Default.GeminiResponse), null);
        }

        if (GeminiChatMapping.FirstCandidate(answer)?.FinishReason is not { Length: > 0 } && answer.PromptFeedback?.BlockReason is not { Length: > 0 })
        {
            // Gemini gives every complete answer a finish reason; one without may be cut anywhere.
            throw _upstream.Failures.Incomplete("the answer has no finish reason");
        }

        var chat = GeminiChatMapping.FromGeminiResponse(
            answer, _upstream.ProviderName, request.Model, _upstream.NewAnswerId(IdPrefix), _upstream.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        if (GeminiChatMapping.FirstCandidate(answer)?.FinishReason is { } reason && GeminiChatMapping.IsFiltered(reason))
        {
            LogAnswerFiltered(_logger, _upstream.ProviderName, GeminiChatMapping.SafeToken(reason));
        }

        return chat;
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(
        ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = MethodUri(request.Model, ":streamGenerateContent?alt=sse");
        using var content = Body(request);

        // TimeoutSeconds bounds the whole stream: a stalled upstream must not hold a caller (or a lease) forever.
        using var timeout = _upstream.StartTimeout(cancellationToken);
        var mapper = new GeminiStreamMapper(
            _upstream.ProviderName, request.Model, _upstream.NewAnswerId(IdPrefix), _upstream.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), request.IncludeUsage);
        HttpResponseMessage? response = null;
        IAsyncEnumerator<SseItem<StreamEvent>>? events = null;
        try
        {
            try
            {
                response = await _upstream.PostAsync(uri, content, timeout.Token, FromErrorBody).ConfigureAwait(false);
                if (response.Content.Headers.ContentType?.MediaType is { } mediaType && !mediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
                {
                    var start = await UpstreamBodies.ReadStartAsync(response.Content, timeout.Token).ConfigureAwait(false);
                    throw UpstreamErrors.IsErrorEnvelope(start) ? FromErrorBody(0, start, null) : _upstream.Failures.NotAStream(mediaType, start);
                }

                var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                events = SseParser.Create(body, static (_, data) => ReadEvent(data)).EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
            }
            catch (Exception ex) when (ex is not GatewayException)
            {
                throw _upstream.Failures.Translate(ex, timeout);
            }

            while (true)
            {
                StreamEvent item;
                try
                {
                    if (!await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        // Without a finish reason the answer may be cut anywhere: completing it here would pass a
                        // truncated answer off as whole, and the cache would keep it.
                        if (!mapper.Finished)
                        {
                            throw _upstream.Failures.EndedBeforeFinalEvent();
                        }

                        break;
                    }

                    item = events.Current.Data;
                }
                catch (Exception ex) when (ex is not GatewayException)
                {
                    throw _upstream.Failures.Translate(ex, timeout, answerStarted: true);
                }

                if (item.ErrorJson is { } errorJson)
                {
                    // An error reported inside a stream that had started with 200.
                    throw FromErrorBody(0, errorJson, null);
                }

                if (item.Response is null)
                {
                    continue;
                }

                foreach (var chunk in mapper.Map(item.Response))
                {
                    yield return chunk;
                }
            }

            if (mapper.FilteredBy is { } filter)
            {
                LogAnswerFiltered(_logger, _upstream.ProviderName, GeminiChatMapping.SafeToken(filter));
            }

            if (mapper.UsageChunk() is { } usage)
            {
                yield return usage;
            }
        }
        finally
        {
            if (events is not null)
            {
                await UpstreamEndpoint.DisposeQuietlyAsync(events).ConfigureAwait(false);
            }

            response?.Dispose();
        }
    }

    /// <remarks>
    /// One input goes to <c>embedContent</c>, several to <c>batchEmbedContents</c> in one call, whose answer keeps the
    /// requests' order. Gemini's embedding answers carry no model, so the requested model is reported. Usage: the Gemini
    /// API's reference documents no token count on these answers, and the adapter does not guess one: the usage is null
    /// ("not reported", never an estimate passed off as billed) unless an answer does carry <c>usageMetadata.promptTokenCount</c>.
    /// </remarks>
    public async Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Inputs.IsDefaultOrEmpty)
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request has no input to embed", "input");
        }

        var batch = request.Inputs.Length > 1;
        var uri = MethodUri(request.Model, batch ? ":batchEmbedContents" : ":embedContent");
        using var content = UpstreamEndpoint.JsonContent(GeminiEmbeddingWire.Serialize(request, ModelName(request.Model)));
        using var timeout = _upstream.StartTimeout(cancellationToken);
        GeminiEmbedResponse answer;
        try
        {
            using var response = await _upstream.PostAsync(uri, content, timeout.Token, FromErrorBody).ConfigureAwait(false);
            answer = await _upstream.ReadJsonAsync(response, GeminiEmbeddingJsonContext.Default.GeminiEmbedResponse, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            throw _upstream.Failures.Translate(ex, timeout);
        }

        if (answer.Error is not null)
        {
            // A 200 carrying Google's error envelope is that error, not an answer without vectors.
            throw FromErrorBody(0, JsonSerializer.Serialize(new GeminiResponse { Error = answer.Error }, GeminiJsonContext.Default.GeminiResponse), null);
        }

        var vectors = batch ? answer.Embeddings : answer.Embedding is { } single ? [single] : null;

        // Exactly one vector per input: one too few would shift every later one onto the wrong text.
        if (vectors is null || vectors.Count != request.Inputs.Length || vectors.Any(v => v?.Values is not { Length: > 0 }))
        {
            throw _upstream.Failures.Malformed(
                string.Create(CultureInfo.InvariantCulture, $"{vectors?.Count(v => v?.Values is { Length: > 0 }) ?? 0} embeddings for {request.Inputs.Length} inputs"));
        }

        return new EmbeddingResponse
        {
            Model = request.Model,
            Vectors = [.. vectors.Select(v => v!.Values!)],
            Usage = answer.UsageMetadata?.PromptTokenCount is { } tokens ? new Usage { PromptTokens = tokens, CompletionTokens = 0 } : null,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() => _upstream.Dispose();

    /// <summary>Whether a BaseUrl's last path segment is already an API version (<c>v1</c>, <c>v1beta</c>, <c>v1alpha</c>…).</summary>
    private static bool EndsWithVersion(Uri endpoint)
    {
        var last = endpoint.AbsolutePath.TrimEnd('/').Split('/')[^1];
        return last.Length >= 2 && last[0] == 'v' && char.IsAsciiDigit(last[1]) && last.All(char.IsAsciiLetterOrDigit);
    }

    /// <param name="model">The upstream model, with or without <c>models/</c>.</param>
    /// <param name="method">The method with its colon and any query: <c>:generateContent</c>, <c>:embedContent</c>…</param>
    private Uri MethodUri(string model, string method) => new(_modelsUrl + Uri.EscapeDataString(ModelName(model)) + method);

    /// <summary>The bare model name: Google names models <c>models/gemini-2.5-flash</c>; the bare name is what configs usually hold.</summary>
    private static string ModelName(string model)
    {
        if (string.IsNullOrEmpty(model))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request names no model", "model");
        }

        return model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;
    }

    private static ByteArrayContent Body(ChatRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            GeminiChatMapping.WriteRequest(writer, request);
        }

        return UpstreamEndpoint.JsonContent(buffer.WrittenSpan.ToArray());
    }

    private static StreamEvent ReadEvent(ReadOnlySpan<byte> data)
    {
        var response = JsonSerializer.Deserialize(data, GeminiJsonContext.Default.GeminiResponse);
        return response?.Error is not null ? new StreamEvent(null, Encoding.UTF8.GetString(data)) : new StreamEvent(response, null);
    }

    /// <summary>Classifies Google's error envelope; <paramref name="httpStatus"/> 0 when it came inside a 200 (then its <c>code</c> stands for the status).</summary>
    private GatewayException FromErrorBody(int httpStatus, string? body, string? retryAfter)
    {
        var error = TryReadError(body);
        var status = httpStatus is 0 or 200 ? error?.Code is >= 400 and < 600 and var code ? code : StatusFor(error?.Status) : httpStatus;
        if (status != 400 || error?.Details?.Any(d => d.Reason == "API_KEY_INVALID") != true)
        {
            return _upstream.Failures.FromHttpStatus(status, body, retryAfter ?? RetryDelaySeconds(error));
        }

        // Google answers a bad key with 400 INVALID_ARGUMENT: the gateway's credentials failed, not the caller's request.
        var exception = new GatewayException(
            GatewayError.UpstreamAuthFailed, $"provider '{_upstream.ProviderName}' rejected the gateway's credentials (HTTP 400, API_KEY_INVALID)", upstreamStatus: status);
        UpstreamLog.LogUpstreamFailed(_logger, _upstream.ProviderName, status, exception.Error);
        return exception;
    }

    private static GeminiError? TryReadError(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.Length > UpstreamBodies.MaxClassifiedBytes)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, GeminiJsonContext.Default.GeminiResponse)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The HTTP status a <c>google.rpc.Code</c> name stands for; 500 (retryable) for one the gateway does not know.</summary>
    private static int StatusFor(string? status) => status switch
    {
        "INVALID_ARGUMENT" or "FAILED_PRECONDITION" or "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "RESOURCE_EXHAUSTED" => 429,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    };

    /// <summary>The delay of a <c>google.rpc.RetryInfo</c> detail (a protobuf Duration, <c>"20s"</c>) as seconds text; null when there is none.</summary>
    private static string? RetryDelaySeconds(GeminiError? error)
    {
        var delay = error?.Details?.FirstOrDefault(d => d.Type?.EndsWith("google.rpc.RetryInfo", StringComparison.Ordinal) == true)?.RetryDelay;
        return delay is { Length: > 1 } && delay[^1] == 's'
            && double.TryParse(delay.AsSpan(0, delay.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? seconds.ToString(CultureInfo.InvariantCulture)
            : null;
    }

    [LoggerMessage(EventId = GatehouseEventIds.UpstreamAnswerFiltered, Level = LogLevel.Information, Message = "Provider {ProviderName} stopped the answer for its content (finishReason {FinishReason})")]
    private static partial void LogAnswerFiltered(ILogger logger, string providerName, string finishReason);

    /// <summary>One SSE event: the response it carries, or the raw JSON of the error envelope it is.</summary>
    private readonly record struct StreamEvent(GeminiResponse? Response, string? ErrorJson);
}
