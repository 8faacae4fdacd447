namespace Gatehouse.Ledger;

/// <summary>What an upstream model costs, in USD per million tokens.</summary>
/// <param name="CachedInputPerMillion">Prompt tokens the upstream read from its prompt cache.</param>
public readonly record struct ModelPrice(decimal InputPerMillion, decimal OutputPerMillion, decimal CachedInputPerMillion)
{
    private const decimal Million = 1_000_000m;

    /// <summary>
    /// Prompt tokens not read from the upstream's cache at the input rate, cached ones at the cached rate, completion
    /// tokens at the output rate. A cached count above the prompt count is taken as the whole prompt.
    /// </summary>
    public decimal Cost(int promptTokens, int completionTokens, int cachedPromptTokens)
    {
        var cached = Math.Clamp(cachedPromptTokens, 0, Math.Max(promptTokens, 0));
        return ((Math.Max(promptTokens, 0) - cached) * InputPerMillion
            + cached * CachedInputPerMillion
            + Math.Max(completionTokens, 0) * OutputPerMillion) / Million;
    }
}
