using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.RateLimiting;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Tests.RateLimiting.Leases;

/// <summary>One estimate for every kind of request: the tokens in, and the completion tokens it may bill.</summary>
public sealed class RequestEstimateTests
{
    private readonly TokenEstimator _estimator = new(new RateLimitOptions { DefaultMaxTokensEstimate = 100 });

    private static readonly ChatRequest Chat = new()
    {
        Model = "m",
        Messages = [ChatMessage.FromText(ChatRole.System, "You are terse."), ChatMessage.FromText(ChatRole.User, "Hello world")],
    };

    [Fact]
    public void Tokens_ChatRequest_ArePromptTokensAndTheCompletionAllowance()
    {
        var appDefault = new RequestEstimate(_estimator, Chat, defaultMaxTokens: 40);
        var asked = new RequestEstimate(_estimator, Chat with { MaxTokens = 7 }, defaultMaxTokens: 40);
        var globalDefault = new RequestEstimate(_estimator, Chat, defaultMaxTokens: null);

        // o200k_base: "You are terse." = 4 tokens, "Hello world" = 2; 3 per message and 3 for the reply.
        Assert.Equal((15, 40, 55), (appDefault.InputTokens, appDefault.OutputTokens, appDefault.TotalTokens));
        Assert.Equal((15, 7), (asked.InputTokens, asked.OutputTokens));
        Assert.Equal((15, 100), (globalDefault.InputTokens, globalDefault.OutputTokens));
        Assert.Equal(_estimator.Estimate(Chat, defaultMaxTokens: 40), appDefault.TotalTokens);
    }

    [Fact]
    public void Tokens_EmbeddingRequest_AreItsInputsOnly()
    {
        var request = new EmbeddingRequest { Model = "e", Inputs = ["Hello world", "You are terse."] };

        var estimate = new RequestEstimate(_estimator, request, defaultMaxTokens: 40);

        Assert.Equal((2 + 4, 0, 6), (estimate.InputTokens, estimate.OutputTokens, estimate.TotalTokens));
    }
}
