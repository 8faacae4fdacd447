using Gatehouse.Chat;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Tests.RateLimiting.Leases;

public sealed class TokenEstimatorTests
{
    private readonly TokenEstimator _estimator = new(new RateLimitOptions { DefaultMaxTokensEstimate = 100, ImageTokenEstimate = 765 });

    [Fact]
    public void PromptTokens_TextMessages_CountsO200kTokensPlusFramingPerMessage()
    {
        var request = new ChatRequest
        {
            Model = "m",
            Messages = [ChatMessage.FromText(ChatRole.System, "You are terse."), ChatMessage.FromText(ChatRole.User, "Hello world")],
        };

        // o200k_base: "You are terse." = 4 tokens, "Hello world" = 2; 3 per message and 3 for the reply.
        Assert.Equal(4 + 2 + (2 * 3) + 3, _estimator.PromptTokens(request));
    }

    [Fact]
    public void Estimate_ImagePartAndNoMaxTokens_AddsTheImageEstimateAndTheDefaultCompletion()
    {
        var request = new ChatRequest
        {
            Model = "m",
            Messages = [new ChatMessage { Role = ChatRole.User, Content = [new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/a.png" }] }],
        };

        Assert.Equal(765 + 3 + 3 + 100, _estimator.Estimate(request));
        Assert.Equal(765 + 3 + 3 + 40, _estimator.Estimate(request, defaultMaxTokens: 40));
        Assert.Equal(765 + 3 + 3 + 7, _estimator.Estimate(request with { MaxTokens = 7 }, defaultMaxTokens: 40));
    }
}
