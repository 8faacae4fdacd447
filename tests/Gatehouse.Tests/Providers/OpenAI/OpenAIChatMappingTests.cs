using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers.OpenAI;
using OpenAI.Chat;
using Xunit;
using ChatMessage = Gatehouse.Chat.ChatMessage;
using ChatRole = Gatehouse.Chat.ChatRole;

// OpenAIChatModelFactory is the SDK's way to build updates for tests; named arguments bind to its newest
// overload, which is experimental only for the service-tier and audio parameters these tests do not use.
#pragma warning disable OPENAI001

namespace Gatehouse.Tests.Providers.OpenAI;

public sealed class OpenAIChatMappingTests
{
    [Theory]
    [InlineData(ToolChoiceMode.Auto, "\"auto\"")]
    [InlineData(ToolChoiceMode.None, "\"none\"")]
    [InlineData(ToolChoiceMode.Required, "\"required\"")]
    public void ToOpenAIOptions_ToolChoiceMode_SerializesAsOpenAIDoes(ToolChoiceMode mode, string expectedJson)
    {
        var json = Serialize(OpenAIChatMapping.ToOpenAIOptions(Request() with
        {
            Tools = [new ToolDefinition { Name = "f" }],
            ToolChoice = new ToolChoice { Mode = mode },
        }));

        Assert.Equal(expectedJson, json["tool_choice"]!.ToJsonString());
    }

    [Theory]
    [InlineData(ResponseFormatKind.Text, "text")]
    [InlineData(ResponseFormatKind.JsonObject, "json_object")]
    public void ToOpenAIOptions_ResponseFormat_SerializesType(ResponseFormatKind kind, string expectedType)
    {
        var json = Serialize(OpenAIChatMapping.ToOpenAIOptions(Request() with { ResponseFormat = new ResponseFormat { Kind = kind } }));

        Assert.Equal(expectedType, json["response_format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void ToOpenAIOptions_NoTools_OmitsParallelToolCalls()
    {
        var json = Serialize(OpenAIChatMapping.ToOpenAIOptions(Request() with { ParallelToolCalls = true }));

        Assert.Null(json["parallel_tool_calls"]);
    }

    [Fact]
    public void ToOpenAIOptions_LegacyMaxTokens_SendsMaxTokensOnly()
    {
        var json = Serialize(OpenAIChatMapping.ToOpenAIOptions(Request() with { MaxTokens = 64 }, legacyMaxTokens: true));

        Assert.Equal(64, json["max_tokens"]!.GetValue<int>());
        Assert.Null(json["max_completion_tokens"]);
    }

    [Fact]
    public void ToOpenAIMessage_ToolMessageWithoutCallId_ThrowsInvalidRequest()
    {
        var ex = Assert.Throws<GatewayException>(() => OpenAIChatMapping.ToOpenAIMessage(ChatMessage.FromText(ChatRole.Tool, "result")));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
    }

    [Fact]
    public void ToOpenAIMessage_InvalidBase64Image_ThrowsInvalidRequest()
    {
        var message = new ChatMessage
        {
            Role = ChatRole.User,
            Content = [new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,@@not-base64@@" }],
        };

        var ex = Assert.Throws<GatewayException>(() => OpenAIChatMapping.ToOpenAIMessage(message));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
    }

    [Theory]
    [InlineData("stop", FinishReason.Stop)]
    [InlineData("length", FinishReason.Length)]
    [InlineData("tool_calls", FinishReason.ToolCalls)]
    [InlineData("function_call", FinishReason.ToolCalls)]
    [InlineData("content_filter", FinishReason.ContentFilter)]
    public void FromOpenAIFinishReason_Reason_Maps(string wire, FinishReason expected)
    {
        var reason = wire switch
        {
            "stop" => ChatFinishReason.Stop,
            "length" => ChatFinishReason.Length,
            "tool_calls" => ChatFinishReason.ToolCalls,
            "function_call" => ChatFinishReason.FunctionCall,
            _ => ChatFinishReason.ContentFilter,
        };

        Assert.Equal(expected, OpenAIChatMapping.FromOpenAIFinishReason(reason));
    }

    [Fact]
    public void FromOpenAIUpdate_UsageOnly_ReturnsNoContentChunk()
    {
        var update = OpenAIChatModelFactory.StreamingChatCompletionUpdate(
            completionId: "c1", model: "m", usage: OpenAIChatModelFactory.ChatTokenUsage(outputTokenCount: 3, inputTokenCount: 5, totalTokenCount: 8));

        Assert.Null(OpenAIChatMapping.FromOpenAIUpdate(update, "m"));
        var usageChunk = OpenAIChatMapping.FromOpenAIUsageUpdate(update, "m");
        Assert.Equal(new Usage { PromptTokens = 5, CompletionTokens = 3 }, usageChunk!.Usage);
    }

    [Fact]
    public void FromOpenAIUpdate_FinishWithUsage_KeepsUsageOutOfTheFinishChunk()
    {
        // Some OpenAI-compatible servers put usage on the finish chunk; the canonical stream wants it separate.
        var update = OpenAIChatModelFactory.StreamingChatCompletionUpdate(
            completionId: "c1", model: "m", finishReason: ChatFinishReason.Stop,
            usage: OpenAIChatModelFactory.ChatTokenUsage(outputTokenCount: 3, inputTokenCount: 5, totalTokenCount: 8));

        var chunk = OpenAIChatMapping.FromOpenAIUpdate(update, "m");

        Assert.Equal(FinishReason.Stop, chunk!.FinishReason);
        Assert.Null(chunk.Usage);
        Assert.NotNull(OpenAIChatMapping.FromOpenAIUsageUpdate(update, "m"));
    }

    private static ChatRequest Request() => new() { Model = "m", Messages = [ChatMessage.FromText(ChatRole.User, "hi")] };

    private static JsonNode Serialize(ChatCompletionOptions options) =>
        JsonNode.Parse(ModelReaderWriter.Write(options).ToString())!;
}
