using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Providers.Gemini;

/// <summary>
/// Turns the events of one <c>streamGenerateContent?alt=sse</c> stream, each a whole <c>GenerateContentResponse</c>,
/// into canonical chunks; one instance per stream, not thread-safe.
/// </summary>
/// <remarks>
/// Text arrives in pieces, function calls whole (one delta per call). The event whose candidate has a
/// <c>finishReason</c> closes the stream; <c>usageMetadata</c> is cumulative, so the last one seen is the answer's.
/// </remarks>
internal sealed class GeminiStreamMapper(string providerName, string requestedModel, string generatedId, long created, bool includeUsage)
{
    private string? _id;
    private string _model = requestedModel;
    private bool _started;
    private int _toolCalls;
    private Usage? _usage;

    /// <summary>Whether the event that closes a complete stream (a finish reason) has been mapped.</summary>
    public bool Finished { get; private set; }

    /// <summary>The finish reason of a filter that stopped the answer (SAFETY, RECITATION…), for the log; null when none did.</summary>
    public string? FilteredBy { get; private set; }

    /// <summary>Maps one event; the chunks it carries for the caller (none for an event with nothing new).</summary>
    /// <exception cref="Errors.GatewayException">The prompt was blocked, or the model produced a malformed function call.</exception>
    public IEnumerable<ChatChunk> Map(GeminiResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        GeminiChatMapping.ThrowIfPromptBlocked(response, providerName);
        _id ??= string.IsNullOrEmpty(response.ResponseId) ? generatedId : response.ResponseId;
        if (!string.IsNullOrEmpty(response.ModelVersion))
        {
            _model = response.ModelVersion;
        }

        if (GeminiChatMapping.FromGeminiUsage(response.UsageMetadata) is { } usage)
        {
            _usage = usage;
        }

        var candidate = GeminiChatMapping.FirstCandidate(response);
        GeminiChatMapping.ThrowIfMalformedCall(candidate?.FinishReason, providerName);
        FilteredBy = GeminiChatMapping.IsFiltered(candidate?.FinishReason) ? candidate!.FinishReason : FilteredBy;
        string? text = null;
        var deltas = ImmutableArray.CreateBuilder<ToolCallDelta>();
        foreach (var part in candidate?.Content?.Parts ?? [])
        {
            if (part.Thought is true)
            {
                continue;
            }

            if (!string.IsNullOrEmpty(part.Text))
            {
                text += part.Text;
            }

            if (part.FunctionCall is { } functionCall)
            {
                var call = GeminiChatMapping.ToToolCall(functionCall, _id, _toolCalls);
                deltas.Add(new ToolCallDelta { Index = _toolCalls++, Id = call.Id, Name = call.Name, ArgumentsDelta = call.ArgumentsJson });
            }
        }

        FinishReason? finish = null;
        if (candidate?.FinishReason is { Length: > 0 } reason)
        {
            finish = GeminiChatMapping.FromGeminiFinishReason(reason, _toolCalls > 0);
            Finished = true;
        }

        var chunks = new List<ChatChunk>(2);
        if (!_started || text is not null || deltas.Count > 0 || finish is not null)
        {
            chunks.Add(new ChatChunk
            {
                Id = _id,
                Model = _model,
                Created = created,
                Role = _started ? null : ChatRole.Assistant,
                TextDelta = text,
                ToolCallDeltas = deltas.ToImmutable(),
                FinishReason = finish,
            });
            _started = true;
        }

        return chunks;
    }

    /// <summary>
    /// The usage chunk that ends a finished stream when the caller asked for usage: sent once the stream has ended, as
    /// Gemini may report usage on an event after the one with the finish reason.
    /// </summary>
    public ChatChunk? UsageChunk() =>
        includeUsage && Finished && _usage is not null ? new ChatChunk { Id = _id ?? generatedId, Model = _model, Created = created, Usage = _usage } : null;
}
