using System.Collections.Concurrent;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Microsoft.Extensions.Options;

namespace Gatehouse.Ledger;

/// <summary>Prices usage: the <c>Pricing</c> of an alias that routes to the provider and model, else the <see cref="PriceTable"/>.</summary>
/// <remarks>
/// The price follows what was called, not what was asked for: a fallback to another alias's target is priced as that
/// target. When several aliases name the same provider and model with different prices, the first alias (in
/// configuration order) that has a <c>Pricing</c> wins. Lookups are cached per provider and model, with a cap, so a
/// request does no table search; the cache starts afresh when the configuration changes.
/// </remarks>
public sealed class UsagePricer
{
    private const int MaxCachedModels = 1024;

    private volatile Prices _prices;

    public UsagePricer(IOptionsMonitor<GatehouseOptions> options)
    {
        _prices = new Prices(options.CurrentValue);
        options.OnChange(changed => _prices = new Prices(changed));
    }

    /// <summary>The price of <paramref name="model"/> at <paramref name="provider"/>; null when unknown (it then costs 0).</summary>
    public ModelPrice? Find(string provider, string model) => _prices.Find(provider, model);

    /// <summary>What <paramref name="usage"/> of the model costs, and whether a price was known.</summary>
    public (decimal Cost, bool Priced) Price(string provider, string model, Usage? usage)
    {
        if (Find(provider, model) is not { } price)
        {
            return (0m, false);
        }

        return usage is null ? (0m, true) : (price.Cost(usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens), true);
    }

    private sealed class Prices
    {
        private readonly Dictionary<(string Provider, string Model), ModelPrice> _configured = [];
        private readonly ConcurrentDictionary<(string Provider, string Model), ModelPrice?> _found = new();

        public Prices(GatehouseOptions options)
        {
            foreach (var alias in options.Models.Values)
            {
                if (alias.Pricing is not { } pricing)
                {
                    continue;
                }

                var price = new ModelPrice(
                    (decimal)pricing.InputPerMillion, (decimal)pricing.OutputPerMillion, (decimal)(pricing.CachedInputPerMillion ?? pricing.InputPerMillion));
                foreach (var target in alias.Targets)
                {
                    _configured.TryAdd((target.Provider, target.Model), price);
                }
            }
        }

        public ModelPrice? Find(string provider, string model)
        {
            if (_found.TryGetValue((provider, model), out var found))
            {
                return found;
            }

            found = _configured.TryGetValue((provider, model), out var configured) ? configured : PriceTable.Find(model);
            if (_found.Count < MaxCachedModels)
            {
                _found.TryAdd((provider, model), found);
            }

            return found;
        }
    }
}
