using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Ledger;
using Gatehouse.Routing;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Ledger;

public sealed class PricingTests
{
    private static UsagePricer Pricer(params (string Alias, string Provider, string Model, PricingOptions? Pricing)[] aliases)
    {
        var options = new GatehouseOptions();
        foreach (var (alias, provider, model, pricing) in aliases)
        {
            options.Models[alias] = new ModelOptions { Targets = [new TargetOptions { Provider = provider, Model = model }], Pricing = pricing };
        }

        return new UsagePricer(new TestOptionsMonitor<GatehouseOptions>(options));
    }

    [Fact]
    public void Cost_BillsUncachedPromptAtInputCachedAtCachedRateAndCompletionAtOutput()
    {
        var price = new ModelPrice(InputPerMillion: 2.50m, OutputPerMillion: 10m, CachedInputPerMillion: 1.25m);

        // (1000 - 400) × 2.50 + 400 × 1.25 + 200 × 10, per million.
        Assert.Equal(0.0040m, price.Cost(promptTokens: 1000, completionTokens: 200, cachedPromptTokens: 400));
    }

    [Fact]
    public void Cost_CachedAbovePromptIsTheWholePrompt()
    {
        var price = new ModelPrice(1m, 0m, 0.5m);

        Assert.Equal(price.Cost(10, 0, 10), price.Cost(10, 0, 50));
    }

    [Theory]
    [InlineData("gpt-4o", 2.50, 10.00)]
    [InlineData("gpt-4o-mini", 0.15, 0.60)]
    [InlineData("gpt-4o-2024-08-06", 2.50, 10.00)]
    [InlineData("gpt-4o-mini-2024-07-18", 0.15, 0.60)]
    [InlineData("gpt-4.1-mini-2025-04-14", 0.40, 1.60)]
    [InlineData("claude-sonnet-4-5-20250929", 3.00, 15.00)]
    [InlineData("claude-haiku-4-5", 1.00, 5.00)]
    [InlineData("models/gemini-2.5-flash", 0.30, 2.50)]
    public void PriceTable_FindsExactNamesAndDatedSnapshots(string model, double input, double output)
    {
        var price = Assert.NotNull(PriceTable.Find(model));

        Assert.Equal((decimal)input, price.InputPerMillion);
        Assert.Equal((decimal)output, price.OutputPerMillion);
    }

    [Theory]
    [InlineData("up-model")]
    [InlineData("gpt-4")]
    [InlineData("gpt-4ox")]
    public void PriceTable_DoesNotGuessAnUnknownModel(string model) => Assert.Null(PriceTable.Find(model));

    [Fact]
    public void Pricer_AnAliasPricingWinsOverTheTableAndDefaultsTheCachedRateToInput()
    {
        var pricer = Pricer(("fast", "openai", "gpt-4o", new PricingOptions { InputPerMillion = 1, OutputPerMillion = 2 }));

        var (cost, priced) = pricer.Price("openai", "gpt-4o", new Usage { PromptTokens = 1_000_000, CompletionTokens = 1_000_000, CachedPromptTokens = 500_000 });

        Assert.True(priced);
        Assert.Equal(3m, cost);
    }

    [Fact]
    public void Pricer_UsesTheConfiguredCachedRate()
    {
        var pricer = Pricer(("fast", "openai", "gpt-4o", new PricingOptions { InputPerMillion = 1, OutputPerMillion = 2, CachedInputPerMillion = 0.1 }));

        var (cost, _) = pricer.Price("openai", "gpt-4o", new Usage { PromptTokens = 1_000_000, CachedPromptTokens = 1_000_000 });

        Assert.Equal(0.1m, cost);
    }

    [Fact]
    public void Pricer_WithoutAliasPricingUsesTheTableByUpstreamModel()
    {
        var pricer = Pricer(("smart", "anthropic", "claude-sonnet-4-5", null));

        var (cost, priced) = pricer.Price("anthropic", "claude-sonnet-4-5", new Usage { PromptTokens = 1000, CompletionTokens = 100 });

        Assert.True(priced);
        Assert.Equal((1000 * 3m + 100 * 15m) / 1_000_000m, cost);
    }

    [Fact]
    public void Pricer_AnUnknownModelCostsNothingAndSaysSo()
    {
        var pricer = Pricer(("local", "ollama", "llama-local", null));

        Assert.Equal((0m, false), pricer.Price("ollama", "llama-local", new Usage { PromptTokens = 5, CompletionTokens = 5 }));
    }

    [Fact]
    public void Pricer_ThePriceFollowsTheProviderAndModelCalled()
    {
        var pricer = Pricer(
            ("a", "p1", "m", new PricingOptions { InputPerMillion = 1_000_000, OutputPerMillion = 0 }),
            ("b", "p2", "m", new PricingOptions { InputPerMillion = 2_000_000, OutputPerMillion = 0 }));

        Assert.Equal(1m, pricer.Price("p1", "m", new Usage { PromptTokens = 1 }).Cost);
        Assert.Equal(2m, pricer.Price("p2", "m", new Usage { PromptTokens = 1 }).Cost);
    }
}
