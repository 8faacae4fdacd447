using Gatehouse.Caching;
using Gatehouse.Chat;

namespace Gatehouse.Tests.Caching;

public sealed class ChatResponseAssemblerTests
{
    [Fact]
    public void Assemble_TextAndToolCallDeltas_FoldsIntoOneResponse()
    {
        var route = new RouteInfo { Provider = "p", Model = "m-1", Attempts = 1 };
        ChatChunk[] chunks =
        [
            new() { Id = "cmpl-1", Model = "m-1", Role = ChatRole.Assistant, TextDelta = "", Created = 42, Route = route, SystemFingerprint = "fp" },
            new() { Id = "cmpl-1", Model = "m-1", TextDelta = "Let me " },
            new() { Id = "cmpl-1", Model = "m-1", TextDelta = "check." },
            new() { Id = "cmpl-1", Model = "m-1", ToolCallDeltas = [new ToolCallDelta { Index = 1, Id = "call_b", Name = "time", ArgumentsDelta = "" }] },
            new() { Id = "cmpl-1", Model = "m-1", ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_a", Name = "weather", ArgumentsDelta = "{\"ci" }] },
            new() { Id = "cmpl-1", Model = "m-1", ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "ty\":\"Paris\"}" }] },
            new() { Id = "cmpl-1", Model = "m-1", FinishReason = FinishReason.ToolCalls },
            new() { Id = "cmpl-1", Model = "m-1", Usage = new Usage { PromptTokens = 9, CompletionTokens = 4 } },
        ];

        var response = ChatResponseAssembler.Assemble(chunks);

        Assert.Equal("cmpl-1", response.Id);
        Assert.Equal("m-1", response.Model);
        Assert.Equal(42, response.Created);
        Assert.Equal("fp", response.SystemFingerprint);
        Assert.Same(route, response.Route);
        Assert.Equal(ChatRole.Assistant, response.Message.Role);
        Assert.Equal("Let me check.", response.Message.Text);
        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(13, response.Usage!.TotalTokens);
        Assert.Equal(2, response.Message.ToolCalls.Length);
        Assert.Equal(new ToolCall { Id = "call_a", Name = "weather", ArgumentsJson = "{\"city\":\"Paris\"}" }, response.Message.ToolCalls[0]);
        Assert.Equal(new ToolCall { Id = "call_b", Name = "time", ArgumentsJson = "{}" }, response.Message.ToolCalls[1]);
    }

    [Fact]
    public void Assemble_NoTextDeltas_HasNoContentParts()
    {
        var response = ChatResponseAssembler.Assemble([new ChatChunk { Id = "x", Model = "m", Role = ChatRole.Assistant, FinishReason = FinishReason.Length }]);

        Assert.Empty(response.Message.Content);
        Assert.Equal(FinishReason.Length, response.FinishReason);
        Assert.Null(response.Usage);
    }
}
