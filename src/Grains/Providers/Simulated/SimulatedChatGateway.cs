using System.Collections.Immutable;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Runtime.CompilerServices;
using System.Text;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;

namespace Gatehouse.Providers.Simulated;

/// <summary>
/// A provider that answers without any upstream: deterministic replies derived from the prompt, token counts,
/// configurable latency and failure rate. For demos, load tests and fault drills; every answer says it is simulated.
/// Embeddings are deterministic unit vectors (<see cref="SimulatedEmbeddings"/>), with the same latency and failures.
/// </summary>
internal sealed class SimulatedChatGateway(string providerName, ProviderOptions options, TimeProvider timeProvider) : IChatGateway, IEmbeddingGateway
{
    public const string Fingerprint = "gatehouse-simulated";
    private const string ReplyPrefix = "[simulated]";

    public async Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        await SimulateUpstreamAsync(cancellationToken).ConfigureAwait(false);
        var reply = Compose(request);
        return new ChatResponse
        {
            Id = reply.Id,
            Model = request.Model,
            Created = timeProvider.GetUtcNow().ToUnixTimeSeconds(),
            SystemFingerprint = Fingerprint,
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                Content = reply.ToolCall is null ? [ContentPart.FromText(string.Concat(reply.Words))] : [],
                ToolCalls = reply.ToolCall is null ? [] : [reply.ToolCall],
            },
            FinishReason = reply.FinishReason,
            Usage = reply.Usage,
        };
    }

    public async IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await SimulateUpstreamAsync(cancellationToken).ConfigureAwait(false);
        var reply = Compose(request);
        var created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        ChatChunk Chunk() => new() { Id = reply.Id, Model = request.Model, Created = created, SystemFingerprint = Fingerprint };

        yield return Chunk() with { Role = ChatRole.Assistant, TextDelta = reply.ToolCall is null ? string.Empty : null };
        if (reply.ToolCall is { } call)
        {
            yield return Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = call.Id, Name = call.Name, ArgumentsDelta = call.ArgumentsJson }] };
        }
        else
        {
            foreach (var word in reply.Words)
            {
                if (options.StreamChunkDelayMs > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(options.StreamChunkDelayMs), timeProvider, cancellationToken).ConfigureAwait(false);
                }

                yield return Chunk() with { TextDelta = word };
            }
        }

        yield return Chunk() with { FinishReason = reply.FinishReason };
        if (request.IncludeUsage)
        {
            yield return Chunk() with { Usage = reply.Usage };
        }
    }

    public async Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Inputs.IsDefaultOrEmpty)
        {
            throw new GatewayException(GatewayError.InvalidRequest, "the request has no input to embed", "input");
        }

        await SimulateUpstreamAsync(cancellationToken).ConfigureAwait(false);
        var vectors = ImmutableArray.CreateBuilder<float[]>(request.Inputs.Length);
        var promptTokens = 0;
        foreach (var input in request.Inputs)
        {
            vectors.Add(SimulatedEmbeddings.Vector(request.Model, input, request.Dimensions));
            promptTokens += EstimateTokens(input);
        }

        return new EmbeddingResponse
        {
            Model = request.Model,
            Vectors = vectors.MoveToImmutable(),
            Usage = new Usage { PromptTokens = promptTokens, CompletionTokens = 0 },
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    private async Task SimulateUpstreamAsync(CancellationToken cancellationToken)
    {
        if (options.LatencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(options.LatencyMs), timeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (options.FailureRate > 0 && Random.Shared.NextDouble() < options.FailureRate)
        {
            throw new GatewayException(GatewayError.UpstreamFailed, $"Provider '{providerName}' failed (simulated HTTP 503).", upstreamStatus: 503);
        }
    }

    private static SimulatedReply Compose(ChatRequest request)
    {
        var promptTokens = 0;
        var lastUserText = string.Empty;
        foreach (var message in request.Messages)
        {
            var text = message.Text;
            promptTokens += EstimateTokens(text) + 4;
            if (message.Role == ChatRole.User)
            {
                lastUserText = text;
            }
        }

        var hash = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(request.Model + "\n" + lastUserText)));
        var id = $"chatcmpl-sim-{hash:x16}";

        if (request.Tools.Length > 0 && request.ToolChoice is { Mode: ToolChoiceMode.Required or ToolChoiceMode.Function } choice)
        {
            var tool = choice.FunctionName ?? request.Tools[0].Name;
            var call = new ToolCall { Id = $"call_sim_{hash:x8}", Name = tool, ArgumentsJson = "{}" };
            return new SimulatedReply(id, [], call, FinishReason.ToolCalls, new Usage { PromptTokens = promptTokens, CompletionTokens = 3 });
        }

        var quoted = lastUserText.Length > 200 ? lastUserText[..200] : lastUserText;
        var words = SplitIntoWords($"{ReplyPrefix} Gatehouse received: {quoted}");
        var finish = FinishReason.Stop;
        if (request.MaxTokens is { } max && max < words.Length)
        {
            words = words[..Math.Max(max, 0)];
            finish = FinishReason.Length;
        }

        return new SimulatedReply(id, words, null, finish, new Usage { PromptTokens = promptTokens, CompletionTokens = words.Length });
    }

    /// <summary>Each word (with its leading space) is one token and one streamed chunk.</summary>
    private static ImmutableArray<string> SplitIntoWords(string text)
    {
        var words = ImmutableArray.CreateBuilder<string>();
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                words.Add(text[start..i]);
                start = i;
            }
        }

        return words.ToImmutable();
    }

    /// <summary>About four characters a token, as the vendors' rules of thumb say.</summary>
    private static int EstimateTokens(string text) => (text.Length + 3) / 4;

    private sealed record SimulatedReply(string Id, ImmutableArray<string> Words, ToolCall? ToolCall, FinishReason FinishReason, Usage Usage);
}
