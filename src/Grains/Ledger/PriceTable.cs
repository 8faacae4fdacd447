using System.Collections.Frozen;

namespace Gatehouse.Ledger;

/// <summary>
/// The shipped list prices of common upstream models, used when an alias has no <c>Pricing</c>.
/// </summary>
/// <remarks>
/// DATA, not a contract: a snapshot of the vendors' published standard (non-batch) per-token prices as of
/// <see cref="TakenOn"/>, to be checked against the vendors' price pages before relying on it. Prices change; an
/// alias's <c>Pricing</c> always wins over this table. Tiered prices (Gemini 2.5 Pro above 200k prompt tokens) and
/// cache-write surcharges (Anthropic) are not modelled: the base tier is used. A model is found by its exact name, or
/// else by the longest name here that it starts with followed by <c>-</c> (dated snapshots such as
/// <c>gpt-4o-2024-08-06</c> or <c>claude-sonnet-4-5-20250929</c>); a leading <c>models/</c> (Gemini) is ignored.
/// </remarks>
public static class PriceTable
{
    /// <summary>When the prices were taken.</summary>
    public const string TakenOn = "2025-10-01";

    public static FrozenDictionary<string, ModelPrice> Prices { get; } = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase)
    {
        // OpenAI: input, output, cached input.
        ["gpt-4o"] = new(2.50m, 10.00m, 1.25m),
        ["gpt-4o-mini"] = new(0.15m, 0.60m, 0.075m),
        ["gpt-4.1"] = new(2.00m, 8.00m, 0.50m),
        ["gpt-4.1-mini"] = new(0.40m, 1.60m, 0.10m),
        ["gpt-4.1-nano"] = new(0.10m, 0.40m, 0.025m),
        ["o3"] = new(2.00m, 8.00m, 0.50m),
        ["o3-mini"] = new(1.10m, 4.40m, 0.55m),
        ["o4-mini"] = new(1.10m, 4.40m, 0.275m),
        ["text-embedding-3-small"] = new(0.02m, 0m, 0.02m),
        ["text-embedding-3-large"] = new(0.13m, 0m, 0.13m),
        // Anthropic: the cached rate is the cache-read rate.
        ["claude-opus-4-1"] = new(15.00m, 75.00m, 1.50m),
        ["claude-sonnet-4-5"] = new(3.00m, 15.00m, 0.30m),
        ["claude-sonnet-4"] = new(3.00m, 15.00m, 0.30m),
        ["claude-haiku-4-5"] = new(1.00m, 5.00m, 0.10m),
        ["claude-3-5-haiku"] = new(0.80m, 4.00m, 0.08m),
        // Gemini: prompts up to 200k tokens.
        ["gemini-2.5-pro"] = new(1.25m, 10.00m, 0.31m),
        ["gemini-2.5-flash"] = new(0.30m, 2.50m, 0.075m),
        ["gemini-2.5-flash-lite"] = new(0.10m, 0.40m, 0.025m),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The price of <paramref name="model"/>, or null when the table does not know it.</summary>
    public static ModelPrice? Find(string model)
    {
        var name = model.StartsWith("models/", StringComparison.OrdinalIgnoreCase) ? model["models/".Length..] : model;
        if (Prices.TryGetValue(name, out var exact))
        {
            return exact;
        }

        ModelPrice? best = null;
        var bestLength = 0;
        foreach (var (known, price) in Prices)
        {
            if (known.Length > bestLength && name.Length > known.Length && name[known.Length] == '-'
                && name.StartsWith(known, StringComparison.OrdinalIgnoreCase))
            {
                best = price;
                bestLength = known.Length;
            }
        }

        return best;
    }
}
