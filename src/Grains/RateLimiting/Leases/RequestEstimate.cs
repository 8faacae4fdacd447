using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// What a request is expected to bill before it is sent, whatever its kind: the tokens of its prompt (or inputs), and
/// the completion tokens it may add.
/// </summary>
/// <remarks>
/// Counted on first use and kept, so the app quota and the budget read one count, and a request neither asks about
/// (no token limit, no budget) is never tokenized. Read by one request's stages in turn: not thread-safe.
/// </remarks>
/// <param name="defaultMaxTokens">The app's completion allowance when a chat request sets no <c>max_tokens</c> (null: the global default).</param>
public sealed class RequestEstimate(TokenEstimator estimator, IModelRequest request, int? defaultMaxTokens)
{
    private bool _counted;
    private int _inputTokens;
    private int _outputTokens;

    /// <summary>The prompt's tokens, or an embedding's inputs'.</summary>
    public int InputTokens
    {
        get
        {
            Count();
            return _inputTokens;
        }
    }

    /// <summary>The completion tokens the request may bill: a chat's <c>max_tokens</c> or default allowance; none for an embedding.</summary>
    public int OutputTokens
    {
        get
        {
            Count();
            return _outputTokens;
        }
    }

    public int TotalTokens => InputTokens + OutputTokens;

    private void Count()
    {
        if (_counted)
        {
            return;
        }

        (_inputTokens, _outputTokens) = request switch
        {
            ChatRequest chat => (estimator.PromptTokens(chat), estimator.CompletionAllowance(chat, defaultMaxTokens)),
            // An embedding bills its inputs only.
            EmbeddingRequest embedding => (estimator.Estimate(embedding), 0),
            _ => throw new ArgumentException($"No token estimate for a {request.GetType().Name}.", nameof(request)),
        };
        _counted = true;
    }
}
