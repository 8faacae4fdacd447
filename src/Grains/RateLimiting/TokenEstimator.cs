using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Microsoft.ML.Tokenizers;

namespace Gatehouse.RateLimiting;

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

    /// <summary>Prompt tokens plus <c>max_tokens</c> (or <paramref name="defaultMaxTokens"/>, or the global default).</summary>
    public int Estimate(ChatRequest request, int? defaultMaxTokens = null) =>
        PromptTokens(request) + (request.MaxTokens ?? defaultMaxTokens ?? options.DefaultMaxTokensEstimate);

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
