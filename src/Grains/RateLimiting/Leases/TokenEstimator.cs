using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Grains;
using Microsoft.ML.Tokenizers;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>Estimates a request's token cost before the call: prompt tokens by a real tokenizer plus the completion allowance.</summary>
/// <remarks>
/// Thread-safe. Uses OpenAI's o200k_base encoding (GPT-4o family) for every upstream: other vendors tokenize
/// differently, and reconciliation with the upstream's reported usage corrects the difference afterwards. The prompt
/// count is cached per request instance, so the app bucket (pipeline) and the upstream bucket (router) count once.
/// </remarks>
public sealed class TokenEstimator(RateLimitOptions options)
{
    private static readonly Lazy<Tokenizer> Encoding = new(() => TiktokenTokenizer.CreateForModel("gpt-4o"));

    private readonly ConditionalWeakTable<ChatRequest, StrongBox<int>> _promptTokens = [];
    private readonly ConditionalWeakTable<EmbeddingRequest, StrongBox<int>> _inputTokens = [];

    /// <summary>Prompt tokens plus <c>max_tokens</c> (or <paramref name="defaultMaxTokens"/>, or the global default).</summary>
    public int Estimate(ChatRequest request, int? defaultMaxTokens = null) =>
        PromptTokens(request) + (request.MaxTokens ?? defaultMaxTokens ?? options.DefaultMaxTokensEstimate);

    /// <summary>The inputs' tokens: an embedding bills its input only.</summary>
    public int Estimate(EmbeddingRequest request) =>
        _inputTokens.GetValue(request, r => new StrongBox<int>(r.Inputs.Sum(input => Encoding.Value.CountTokens(input)))).Value;

    /// <summary>The tokens any kind of request is expected to cost: an embedding's inputs, or the chat estimate.</summary>
    public int Estimate(IModelRequest request, int? defaultMaxTokens) => request switch
    {
        EmbeddingRequest embedding => Estimate(embedding),
        ChatRequest chat => Estimate(chat, defaultMaxTokens),
        _ => throw new ArgumentException($"No token estimate for a {request.GetType().Name}.", nameof(request)),
    };

    /// <summary>The completion tokens a chat request may bill: its <c>max_tokens</c>, else <paramref name="defaultMaxTokens"/>, else the global default.</summary>
    public int CompletionAllowance(ChatRequest request, int? defaultMaxTokens) =>
        request.MaxTokens ?? defaultMaxTokens ?? options.DefaultMaxTokensEstimate;

    public int PromptTokens(ChatRequest request) =>
        _promptTokens.GetValue(request, r => new StrongBox<int>(Count(r))).Value;

    private int Count(ChatRequest request)
    {
        var tokenizer = Encoding.Value;
        var total = RateLimitConstants.ReplyPrimingTokens;
        foreach (var message in request.Messages)
        {
            total += RateLimitConstants.PerMessageOverheadTokens;
            foreach (var part in message.Content)
            {
                total += part.Kind == ContentPartKind.ImageUrl ? options.ImageTokenEstimate : tokenizer.CountTokens(part.Text ?? "");
            }

            foreach (var call in message.ToolCalls)
            {
                total += tokenizer.CountTokens(call.Name) + tokenizer.CountTokens(call.ArgumentsJson);
            }
        }

        foreach (var tool in request.Tools)
        {
            total += tokenizer.CountTokens(tool.Name) + tokenizer.CountTokens(tool.Description ?? "") + tokenizer.CountTokens(tool.ParametersJson ?? "");
        }

        return total;
    }
}
