using Gatehouse.Caching;
using Gatehouse.Chat;

namespace Gatehouse.Tests.Caching;

public sealed class RequestHasherTests
{
    private const string Namespace = "app-a";

    private static ChatRequest Baseline() => new()
    {
        Model = "gpt-test",
        Messages =
        [
            ChatMessage.FromText(ChatRole.System, "be brief"),
            ChatMessage.FromText(ChatRole.User, "weather in Paris?"),
            new ChatMessage
            {
                Role = ChatRole.Assistant,
                ToolCalls = [new ToolCall { Id = "call_1", Name = "weather", ArgumentsJson = """{"city":"Paris","unit":"c"}""" }],
            },
            new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_1", Content = [ContentPart.FromText("18C")] },
        ],
        Temperature = 0,
        TopP = 1,
        MaxTokens = 100,
        Stop = ["END"],
        Seed = 7,
        ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = """{"type":"object","properties":{"a":{"type":"string"}}}""", Strict = true },
        Tools = [new ToolDefinition { Name = "weather", Description = "Weather by city", ParametersJson = """{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string"}}}""" }],
        ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Auto },
        PresencePenalty = 0.1,
        FrequencyPenalty = 0.2,
        ParallelToolCalls = true,
    };

    private static string Key(ChatRequest request, string ns = Namespace) => RequestHasher.Key(ns, request);

    [Fact]
    public void Key_SameRequest_IsStableLowercaseHexSha256()
    {
        var key = Key(Baseline());

        Assert.Equal(key, Key(Baseline()));
        Assert.Equal(64, key.Length);
        Assert.Matches("^[0-9a-f]{64}$", key);
    }

    [Fact]
    public void Key_NewRecordInstancesWithEqualContents_AreEqual()
    {
        // Records holding ImmutableArray members are not value-equal; the key must not depend on that.
        var a = Baseline();
        var b = Baseline();
        Assert.NotEqual(a, b);
        Assert.Equal(Key(a), Key(b));
    }

    public static TheoryData<string, Func<ChatRequest, ChatRequest>> Equivalent => new()
    {
        { "user", r => r with { User = "someone-else" } },
        { "include_usage", r => r with { IncludeUsage = true } },
        { "tool schema key order and whitespace", r => r with { Tools = [r.Tools[0] with { ParametersJson = """{ "properties": { "unit": {"type":"string"}, "city": { "type": "string" } },  "type": "object" }""" }] } },
        { "tool call arguments key order and whitespace", r => r with { Messages = r.Messages.SetItem(2, r.Messages[2] with { ToolCalls = [r.Messages[2].ToolCalls[0] with { ArgumentsJson = "{ \"unit\" : \"c\",\n \"city\":\"Paris\" }" }] }) } },
        { "response schema key order", r => r with { ResponseFormat = r.ResponseFormat! with { SchemaJson = """{"properties":{"a":{"type":"string"}},"type":"object"}""" } } },
    };

    [Theory]
    [MemberData(nameof(Equivalent))]
    public void Key_FieldThatDoesNotChangeTheAnswerDiffers_IsEqual(string field, Func<ChatRequest, ChatRequest> change)
    {
        Assert.True(Key(Baseline()) == Key(change(Baseline())), $"changing {field} must not change the key");
    }

    public static TheoryData<string, Func<ChatRequest, ChatRequest>> Different => new()
    {
        { "model", r => r with { Model = "gpt-other" } },
        { "message text", r => r with { Messages = r.Messages.SetItem(1, ChatMessage.FromText(ChatRole.User, "weather in Rome?")) } },
        { "message role", r => r with { Messages = r.Messages.SetItem(0, ChatMessage.FromText(ChatRole.User, "be brief")) } },
        { "message name", r => r with { Messages = r.Messages.SetItem(1, r.Messages[1] with { Name = "alice" }) } },
        { "message order", r => r with { Messages = [r.Messages[1], r.Messages[0], r.Messages[2], r.Messages[3]] } },
        { "extra message", r => r with { Messages = r.Messages.Add(ChatMessage.FromText(ChatRole.User, "and?")) } },
        { "text split into parts", r => r with { Messages = r.Messages.SetItem(1, r.Messages[1] with { Content = [ContentPart.FromText("weather in "), ContentPart.FromText("Paris?")] }) } },
        { "image part", r => r with { Messages = r.Messages.SetItem(1, r.Messages[1] with { Content = r.Messages[1].Content.Add(new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/a.png" }) }) } },
        { "image detail", r => r with { Messages = r.Messages.SetItem(1, r.Messages[1] with { Content = r.Messages[1].Content.Add(new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/a.png", ImageDetail = "high" }) }) } },
        { "tool call id", r => r with { Messages = r.Messages.SetItem(2, r.Messages[2] with { ToolCalls = [r.Messages[2].ToolCalls[0] with { Id = "call_2" }] }) } },
        { "tool call name", r => r with { Messages = r.Messages.SetItem(2, r.Messages[2] with { ToolCalls = [r.Messages[2].ToolCalls[0] with { Name = "forecast" }] }) } },
        { "tool call arguments", r => r with { Messages = r.Messages.SetItem(2, r.Messages[2] with { ToolCalls = [r.Messages[2].ToolCalls[0] with { ArgumentsJson = """{"city":"Rome","unit":"c"}""" }] }) } },
        { "tool result id", r => r with { Messages = r.Messages.SetItem(3, r.Messages[3] with { ToolCallId = "call_9" }) } },
        { "tools", r => r with { Tools = [] } },
        { "tool description", r => r with { Tools = [r.Tools[0] with { Description = "Weather" }] } },
        { "tool parameters", r => r with { Tools = [r.Tools[0] with { ParametersJson = """{"type":"object"}""" }] } },
        { "tool strict", r => r with { Tools = [r.Tools[0] with { Strict = true }] } },
        { "tool_choice", r => r with { ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required } } },
        { "tool_choice function", r => r with { ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "weather" } } },
        { "temperature", r => r with { Temperature = 0.5 } },
        { "temperature unset", r => r with { Temperature = null } },
        { "top_p", r => r with { TopP = 0.9 } },
        { "max_tokens", r => r with { MaxTokens = 101 } },
        { "stop", r => r with { Stop = ["STOP"] } },
        { "seed", r => r with { Seed = 8 } },
        { "response_format kind", r => r with { ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject } } },
        { "response_format schema", r => r with { ResponseFormat = r.ResponseFormat! with { SchemaJson = """{"type":"object"}""" } } },
        { "response_format strict", r => r with { ResponseFormat = r.ResponseFormat! with { Strict = false } } },
        { "presence_penalty", r => r with { PresencePenalty = 0.3 } },
        { "frequency_penalty", r => r with { FrequencyPenalty = 0.3 } },
        { "parallel_tool_calls", r => r with { ParallelToolCalls = false } },
    };

    [Theory]
    [MemberData(nameof(Different))]
    public void Key_FieldThatChangesTheAnswerDiffers_Differs(string field, Func<ChatRequest, ChatRequest> change)
    {
        Assert.True(Key(Baseline()) != Key(change(Baseline())), $"changing {field} must change the key");
    }

    [Fact]
    public void Key_OtherNamespace_Differs()
    {
        Assert.NotEqual(Key(Baseline(), "app-a"), Key(Baseline(), "app-b"));
    }

    [Fact]
    public void Canonical_IncludesTheVersionSalt()
    {
        Assert.Contains(RequestHasher.VersionSalt, RequestHasher.Canonical(Namespace, Baseline()));
    }

    [Fact]
    public void Key_ArgumentsThatAreNotJson_AreHashedVerbatim()
    {
        var broken = Baseline() with { Messages = Baseline().Messages.SetItem(2, Baseline().Messages[2] with { ToolCalls = [new ToolCall { Id = "call_1", Name = "weather", ArgumentsJson = "{city: Paris" }] }) };
        var otherBroken = Baseline() with { Messages = Baseline().Messages.SetItem(2, Baseline().Messages[2] with { ToolCalls = [new ToolCall { Id = "call_1", Name = "weather", ArgumentsJson = "{city:  Paris" }] }) };

        Assert.Equal(Key(broken), Key(broken));
        Assert.NotEqual(Key(broken), Key(otherBroken));
    }
}
