using System.Text;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gatehouse.Tests.Providers.Simulated;

public sealed class SimulatedChatGatewayTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private const string ExpectedReply = "[simulated] Gatehouse received: hello there";

    [Fact]
    public async Task GetResponse_SamePrompt_ReturnsSameLabelledReply()
    {
        var gateway = Create();

        var first = await gateway.GetResponseAsync(Request("hello there"));
        var second = await gateway.GetResponseAsync(Request("hello there"));

        Assert.Equal(ExpectedReply, first.Message.Text);
        Assert.Equal(first.Message.Text, second.Message.Text);
        Assert.Equal(first.Id, second.Id);
        Assert.StartsWith("chatcmpl-sim-", first.Id);
        Assert.Equal(ChatRole.Assistant, first.Message.Role);
        Assert.Equal("sim-model", first.Model);
        Assert.Equal("gatehouse-simulated", first.SystemFingerprint);
        Assert.Equal(Now.ToUnixTimeSeconds(), first.Created);
        Assert.Equal(FinishReason.Stop, first.FinishReason);
        // "hello there" is 11 characters → 3 tokens plus 4 per message; the reply is 5 words, one token each.
        Assert.Equal(new Usage { PromptTokens = 7, CompletionTokens = 5 }, first.Usage);
    }

    [Fact]
    public async Task GetResponse_DifferentPrompt_ReturnsDifferentId()
    {
        var gateway = Create();

        var first = await gateway.GetResponseAsync(Request("hello there"));
        var second = await gateway.GetResponseAsync(Request("goodbye"));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal("[simulated] Gatehouse received: goodbye", second.Message.Text);
    }

    [Fact]
    public async Task GetResponse_MaxTokensBelowReplyLength_TruncatesWithLengthFinish()
    {
        var gateway = Create();

        var response = await gateway.GetResponseAsync(Request("hello there") with { MaxTokens = 2 });

        Assert.Equal("[simulated] Gatehouse", response.Message.Text);
        Assert.Equal(FinishReason.Length, response.FinishReason);
        Assert.Equal(2, response.Usage?.CompletionTokens);
    }

    [Fact]
    public async Task GetResponse_MaxTokensAtReplyLength_DoesNotTruncate()
    {
        var gateway = Create();

        var response = await gateway.GetResponseAsync(Request("hello there") with { MaxTokens = 5 });

        Assert.Equal(ExpectedReply, response.Message.Text);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponse_WithoutIncludeUsage_ConcatenatesToNonStreamingTextWithoutUsage()
    {
        var gateway = Create();
        var request = Request("hello there");

        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(request));
        var response = await gateway.GetResponseAsync(request);

        Assert.Equal(response.Message.Text, Concat(chunks));
        Assert.Equal(ChatRole.Assistant, chunks[0].Role);
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        Assert.All(chunks, c => Assert.Null(c.Usage));
        Assert.All(chunks, c => Assert.Equal(response.Id, c.Id));
        Assert.All(chunks, c => Assert.Equal("gatehouse-simulated", c.SystemFingerprint));
        Assert.Single(chunks, c => c.FinishReason is not null);
    }

    [Fact]
    public async Task GetStreamingResponse_IncludeUsage_EndsWithOneUsageOnlyChunk()
    {
        var gateway = Create();
        var request = Request("hello there") with { IncludeUsage = true };

        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(request));

        var usageChunk = Assert.Single(chunks, c => c.Usage is not null);
        Assert.Same(chunks[^1], usageChunk);
        Assert.Equal(new Usage { PromptTokens = 7, CompletionTokens = 5 }, usageChunk.Usage);
        Assert.Null(usageChunk.TextDelta);
        Assert.Null(usageChunk.FinishReason);
        Assert.Equal(FinishReason.Stop, chunks[^2].FinishReason);
        Assert.Equal(ExpectedReply, Concat(chunks));
    }

    [Fact]
    public async Task GetStreamingResponse_MaxTokens_TruncatesLikeNonStreaming()
    {
        var gateway = Create();
        var request = Request("hello there") with { MaxTokens = 3 };

        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(request));

        Assert.Equal("[simulated] Gatehouse received:", Concat(chunks));
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
    }

    [Fact]
    public async Task GetResponse_FailureRateOne_ThrowsUpstreamFailed()
    {
        var gateway = Create(failureRate: 1);

        var exception = await Assert.ThrowsAsync<GatewayException>(() => gateway.GetResponseAsync(Request("hello")));

        Assert.Equal(GatewayError.UpstreamFailed, exception.Error);
        Assert.Equal(503, exception.UpstreamStatus);
        Assert.Contains("'sim'", exception.Message);
    }

    [Fact]
    public async Task GetStreamingResponse_FailureRateOne_ThrowsBeforeFirstChunk()
    {
        var gateway = Create(failureRate: 1);
        var chunks = new List<ChatChunk>();

        var exception = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            await foreach (var chunk in gateway.GetStreamingResponseAsync(Request("hello")))
            {
                chunks.Add(chunk);
            }
        });

        Assert.Equal(GatewayError.UpstreamFailed, exception.Error);
        Assert.Empty(chunks);
    }

    [Fact]
    public async Task GetResponse_ToolChoiceRequired_CallsFirstTool()
    {
        var gateway = Create();
        var request = Request("weather?") with
        {
            Tools = [new ToolDefinition { Name = "get_weather" }, new ToolDefinition { Name = "get_time" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required },
        };

        var response = await gateway.GetResponseAsync(request);

        var call = Assert.Single(response.Message.ToolCalls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("{}", call.ArgumentsJson);
        Assert.StartsWith("call_sim_", call.Id);
        Assert.Empty(response.Message.Content);
        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task GetResponse_ToolChoiceFunction_CallsNamedTool()
    {
        var gateway = Create();
        var request = Request("time?") with
        {
            Tools = [new ToolDefinition { Name = "get_weather" }, new ToolDefinition { Name = "get_time" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "get_time" },
        };

        var response = await gateway.GetResponseAsync(request);

        Assert.Equal("get_time", Assert.Single(response.Message.ToolCalls).Name);
    }

    [Fact]
    public async Task GetResponse_ToolChoiceAuto_AnswersWithText()
    {
        var gateway = Create();
        var request = Request("hello there") with
        {
            Tools = [new ToolDefinition { Name = "get_weather" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Auto },
        };

        var response = await gateway.GetResponseAsync(request);

        Assert.Empty(response.Message.ToolCalls);
        Assert.Equal(ExpectedReply, response.Message.Text);
    }

    [Fact]
    public async Task GetStreamingResponse_ToolChoiceRequired_StreamsOneToolCallDelta()
    {
        var gateway = Create();
        var request = Request("weather?") with
        {
            Tools = [new ToolDefinition { Name = "get_weather" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required },
        };

        var chunks = await CollectAsync(gateway.GetStreamingResponseAsync(request));
        var response = await gateway.GetResponseAsync(request);

        var delta = Assert.Single(chunks.SelectMany(c => c.ToolCallDeltas));
        var call = Assert.Single(response.Message.ToolCalls);
        Assert.Equal(new ToolCallDelta { Index = 0, Id = call.Id, Name = "get_weather", ArgumentsDelta = "{}" }, delta);
        Assert.Null(chunks[0].TextDelta);
        Assert.Equal(FinishReason.ToolCalls, chunks[^1].FinishReason);
    }

    private static IChatGateway Create(double failureRate = 0) =>
        new SimulatedChatGatewayFactory(new FakeTimeProvider(Now)).Create(
            "sim",
            new ProviderOptions { Kind = ProviderKinds.Simulated, LatencyMs = 0, FailureRate = failureRate });

    private static ChatRequest Request(string prompt) => new()
    {
        Model = "sim-model",
        Messages = [ChatMessage.FromText(ChatRole.User, prompt)],
    };

    private static async Task<List<ChatChunk>> CollectAsync(IAsyncEnumerable<ChatChunk> stream)
    {
        var chunks = new List<ChatChunk>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    private static string Concat(IEnumerable<ChatChunk> chunks)
    {
        var text = new StringBuilder();
        foreach (var chunk in chunks)
        {
            text.Append(chunk.TextDelta);
        }

        return text.ToString();
    }
}
