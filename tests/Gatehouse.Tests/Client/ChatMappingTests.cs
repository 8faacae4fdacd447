using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Client;
using Gatehouse.Errors;
using Microsoft.Extensions.AI;
using Xunit;
using G = Gatehouse.Chat;

namespace Gatehouse.Tests.Client;

public sealed class ChatMappingTests
{
    private static readonly ChatMessage[] s_hello = [new(ChatRole.User, "hello")];

    [Fact]
    public void ToGatehouseRequest_AllOptionsSet_MapsEveryField()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}}}""").RootElement;
        var options = new ChatOptions
        {
            ModelId = "gpt-4o",
            Temperature = 0.25f,
            TopP = 0.5f,
            MaxOutputTokens = 123,
            StopSequences = ["END", "STOP"],
            Seed = 42,
            PresencePenalty = 0.1f,
            FrequencyPenalty = 0.2f,
            AllowMultipleToolCalls = false,
            Tools = [AIFunctionFactory.CreateDeclaration("get_weather", "Gets the weather.", schema)],
            ToolMode = ChatToolMode.RequireAny,
            ResponseFormat = ChatResponseFormat.Json,
            AdditionalProperties = new() { ["user"] = "end-user-7" },
        };

        var request = ChatMapping.ToGatehouseRequest(s_hello, options, defaultModel: "sim", stream: false);

        Assert.Equal("gpt-4o", request.Model);
        Assert.Equal(0.25, request.Temperature!.Value, 6);
        Assert.Equal(0.5, request.TopP!.Value, 6);
        Assert.Equal(123, request.MaxTokens);
        Assert.Equal(["END", "STOP"], request.Stop.ToArray());
        Assert.Equal(42, request.Seed);
        Assert.Equal(0.1, request.PresencePenalty!.Value, 6);
        Assert.Equal(0.2, request.FrequencyPenalty!.Value, 6);
        Assert.False(request.ParallelToolCalls);
        Assert.Equal("end-user-7", request.User);
        Assert.False(request.IncludeUsage);
        Assert.Equal(new G.ResponseFormat { Kind = G.ResponseFormatKind.JsonObject }, request.ResponseFormat);
        Assert.Equal(new G.ToolChoice { Mode = G.ToolChoiceMode.Required }, request.ToolChoice);
        var tool = Assert.Single(request.Tools);
        Assert.Equal("get_weather", tool.Name);
        Assert.Equal("Gets the weather.", tool.Description);
        Assert.Equal(schema.GetRawText(), tool.ParametersJson);
        var message = Assert.Single(request.Messages);
        Assert.Equal(G.ChatRole.User, message.Role);
        Assert.Equal("hello", message.Text);
    }

    [Fact]
    public void ToGatehouseRequest_NoOptions_LeavesOptionalFieldsUnset()
    {
        var request = ChatMapping.ToGatehouseRequest(s_hello, options: null, defaultModel: "sim", stream: false);

        Assert.Equal("sim", request.Model);
        Assert.Null(request.Temperature);
        Assert.Null(request.TopP);
        Assert.Null(request.MaxTokens);
        Assert.Empty(request.Stop);
        Assert.Null(request.Seed);
        Assert.Null(request.ResponseFormat);
        Assert.Empty(request.Tools);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.User);
        Assert.Null(request.PresencePenalty);
        Assert.Null(request.FrequencyPenalty);
        Assert.Null(request.ParallelToolCalls);
    }

    [Fact]
    public void ToGatehouseRequest_ModelIdNull_UsesDefaultModel()
    {
        var request = ChatMapping.ToGatehouseRequest(s_hello, new ChatOptions { Temperature = 0 }, defaultModel: "sim", stream: false);

        Assert.Equal("sim", request.Model);
    }

    [Fact]
    public void ToGatehouseRequest_NoModelAnywhere_ThrowsInvalidRequestNamingModel()
    {
        var e = Assert.Throws<GatewayException>(() => ChatMapping.ToGatehouseRequest(s_hello, options: null, defaultModel: null, stream: false));

        Assert.Equal(GatewayError.InvalidRequest, e.Error);
        Assert.Equal("model", e.Param);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ToGatehouseRequest_Streaming_IncludeUsageFollowsStream(bool stream)
    {
        var request = ChatMapping.ToGatehouseRequest(s_hello, options: null, defaultModel: "sim", stream);

        Assert.Equal(stream, request.IncludeUsage);
    }

    [Fact]
    public void ToGatehouseRequest_Instructions_PrependsSystemMessage()
    {
        var request = ChatMapping.ToGatehouseRequest(s_hello, new ChatOptions { Instructions = "Be brief." }, "sim", stream: false);

        Assert.Equal(2, request.Messages.Length);
        Assert.Equal(G.ChatRole.System, request.Messages[0].Role);
        Assert.Equal("Be brief.", request.Messages[0].Text);
        Assert.Equal(G.ChatRole.User, request.Messages[1].Role);
    }

    [Fact]
    public void ToGatehouseRequest_EachRole_MapsToCanonicalRole()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.System, "s"),
            new(ChatRole.User, "u") { AuthorName = "alice" },
            new(ChatRole.Assistant, "a"),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "r")]),
        ];

        var request = ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false);

        Assert.Equal([G.ChatRole.System, G.ChatRole.User, G.ChatRole.Assistant, G.ChatRole.Tool], request.Messages.Select(m => m.Role));
        Assert.Equal("alice", request.Messages[1].Name);
    }

    [Fact]
    public void ToGatehouseRequest_UnknownRole_ThrowsNotSupported()
    {
        ChatMessage[] messages = [new(new ChatRole("developer"), "x")];

        Assert.Throws<NotSupportedException>(() => ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false));
    }

    [Fact]
    public void ToGatehouseRequest_TextAndImageUri_MapsToTextAndImageUrlParts()
    {
        var image = new UriContent("https://example.com/cat.png", "image/png")
        {
            AdditionalProperties = new() { ["detail"] = "low" },
        };
        ChatMessage[] messages = [new(ChatRole.User, [new TextContent("what is this?"), image])];

        var parts = Assert.Single(ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false).Messages).Content;

        Assert.Equal(2, parts.Length);
        Assert.Equal(G.ContentPart.FromText("what is this?"), parts[0]);
        Assert.Equal(new G.ContentPart { Kind = G.ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png", ImageDetail = "low" }, parts[1]);
    }

    [Fact]
    public void ToGatehouseRequest_ImageData_MapsToDataUri()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47];
        ChatMessage[] messages = [new(ChatRole.User, [new DataContent(png, "image/png")])];

        var part = Assert.Single(Assert.Single(ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false).Messages).Content);

        Assert.Equal(G.ContentPartKind.ImageUrl, part.Kind);
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), part.ImageUrl);
    }

    [Fact]
    public void ToGatehouseRequest_NonImageMedia_ThrowsNotSupported()
    {
        ChatMessage[] messages = [new(ChatRole.User, [new DataContent(new byte[] { 1, 2 }, "audio/wav")])];

        Assert.Throws<NotSupportedException>(() => ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false));
    }

    [Fact]
    public void ToGatehouseRequest_AssistantFunctionCall_SerializesArgumentsToJson()
    {
        var call = new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris", ["days"] = 3 });
        ChatMessage[] messages = [new(ChatRole.Assistant, [new TextContent("Let me check."), call])];

        var message = Assert.Single(ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false).Messages);

        Assert.Equal(G.ChatRole.Assistant, message.Role);
        Assert.Equal("Let me check.", message.Text);
        var toolCall = Assert.Single(message.ToolCalls);
        Assert.Equal("call_1", toolCall.Id);
        Assert.Equal("get_weather", toolCall.Name);
        Assert.Equal("""{"city":"Paris","days":3}""", toolCall.ArgumentsJson);
    }

    [Fact]
    public void ToGatehouseRequest_FunctionCallWithoutArguments_SendsEmptyObject()
    {
        ChatMessage[] messages = [new(ChatRole.Assistant, [new FunctionCallContent("call_1", "now")])];

        var toolCall = Assert.Single(Assert.Single(ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false).Messages).ToolCalls);

        Assert.Equal("{}", toolCall.ArgumentsJson);
    }

    [Fact]
    public void ToGatehouseRequest_SeveralFunctionResults_MapsToOneToolMessageEach()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "sunny"), new FunctionResultContent("call_2", new { temp = 21 })]),
        ];

        var request = ChatMapping.ToGatehouseRequest(messages, options: null, "sim", stream: false);

        Assert.Equal(2, request.Messages.Length);
        Assert.All(request.Messages, m => Assert.Equal(G.ChatRole.Tool, m.Role));
        Assert.Equal("call_1", request.Messages[0].ToolCallId);
        Assert.Equal("sunny", request.Messages[0].Text);
        Assert.Equal("call_2", request.Messages[1].ToolCallId);
        Assert.Equal("""{"temp":21}""", request.Messages[1].Text);
    }

    [Fact]
    public void ToGatehouseRequest_ResponseFormatText_MapsToText()
    {
        var request = ChatMapping.ToGatehouseRequest(s_hello, new ChatOptions { ResponseFormat = ChatResponseFormat.Text }, "sim", stream: false);

        Assert.Equal(new G.ResponseFormat { Kind = G.ResponseFormatKind.Text }, request.ResponseFormat);
    }

    [Fact]
    public void ToGatehouseRequest_ResponseFormatJsonSchema_MapsSchemaAndName()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}""").RootElement;
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "answer_schema", "An answer.") };

        var format = ChatMapping.ToGatehouseRequest(s_hello, options, "sim", stream: false).ResponseFormat;

        Assert.NotNull(format);
        Assert.Equal(G.ResponseFormatKind.JsonSchema, format.Kind);
        Assert.Equal("answer_schema", format.SchemaName);
        Assert.Equal(schema.GetRawText(), format.SchemaJson);
    }

    [Fact]
    public void ToGatehouseRequest_ToolModeAuto_MapsToAuto()
    {
        var choice = ChatMapping.ToGatehouseRequest(s_hello, new ChatOptions { ToolMode = ChatToolMode.Auto }, "sim", stream: false).ToolChoice;

        Assert.Equal(new G.ToolChoice { Mode = G.ToolChoiceMode.Auto }, choice);
    }

    [Fact]
    public void ToGatehouseRequest_ToolModeNone_MapsToNone()
    {
        var choice = ChatMapping.ToGatehouseRequest(s_hello, new ChatOptions { ToolMode = ChatToolMode.None }, "sim", stream: false).ToolChoice;

        Assert.Equal(new G.ToolChoice { Mode = G.ToolChoiceMode.None }, choice);
    }

    [Fact]
    public void ToGatehouseRequest_ToolModeRequireSpecific_MapsToFunction()
    {
        var options = new ChatOptions { ToolMode = ChatToolMode.RequireSpecific("get_weather") };

        var choice = ChatMapping.ToGatehouseRequest(s_hello, options, "sim", stream: false).ToolChoice;

        Assert.Equal(new G.ToolChoice { Mode = G.ToolChoiceMode.Function, FunctionName = "get_weather" }, choice);
    }

    [Fact]
    public void ToGatehouseRequest_AIFunctionFromDelegate_MapsNameDescriptionAndSchema()
    {
        var function = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Gets the weather.");

        var tool = Assert.Single(ChatMapping.ToGatehouseRequest(s_hello, new ChatOptions { Tools = [function] }, "sim", stream: false).Tools);

        Assert.Equal("get_weather", tool.Name);
        Assert.Equal("Gets the weather.", tool.Description);
        Assert.Equal(function.JsonSchema.GetRawText(), tool.ParametersJson);
        Assert.Contains("\"city\"", tool.ParametersJson, StringComparison.Ordinal);
    }

    [Fact]
    public void ToGatehouseRequest_HostedTool_ThrowsNotSupported()
    {
        var options = new ChatOptions { Tools = [new HostedWebSearchTool()] };

        Assert.Throws<NotSupportedException>(() => ChatMapping.ToGatehouseRequest(s_hello, options, "sim", stream: false));
    }

    [Fact]
    public void FromGatehouseResponse_AllFields_MapsEveryField()
    {
        var response = new G.ChatResponse
        {
            Id = "chatcmpl-1",
            Model = "gpt-4o-2024-08-06",
            Message = G.ChatMessage.FromText(G.ChatRole.Assistant, "Hi there."),
            FinishReason = G.FinishReason.Length,
            Usage = new G.Usage { PromptTokens = 11, CompletionTokens = 7 },
            Created = 1_700_000_000,
            Route = new G.RouteInfo { Provider = "openai", Model = "gpt-4o-2024-08-06", Attempts = 2, Cache = "miss" },
        };

        var result = ChatMapping.FromGatehouseResponse(response);

        Assert.Equal("chatcmpl-1", result.ResponseId);
        Assert.Equal("gpt-4o-2024-08-06", result.ModelId);
        Assert.Equal(ChatFinishReason.Length, result.FinishReason);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), result.CreatedAt);
        Assert.NotNull(result.Usage);
        Assert.Equal(11, result.Usage.InputTokenCount);
        Assert.Equal(7, result.Usage.OutputTokenCount);
        Assert.Equal(18, result.Usage.TotalTokenCount);
        Assert.NotNull(result.AdditionalProperties);
        Assert.Equal("openai", result.AdditionalProperties[GatehouseClientConstants.ProviderPropertyName]);
        Assert.Equal(2, result.AdditionalProperties[GatehouseClientConstants.AttemptsPropertyName]);
        Assert.Equal("miss", result.AdditionalProperties[GatehouseClientConstants.CachePropertyName]);
        Assert.Same(response, result.RawRepresentation);
        var message = Assert.Single(result.Messages);
        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.Equal("chatcmpl-1", message.MessageId);
        Assert.Equal("Hi there.", result.Text);
    }

    [Fact]
    public void FromGatehouseResponse_NoRouteUsageOrCreated_LeavesThemNull()
    {
        var response = new G.ChatResponse { Id = "r", Model = "m", Message = G.ChatMessage.FromText(G.ChatRole.Assistant, "x") };

        var result = ChatMapping.FromGatehouseResponse(response);

        Assert.Null(result.AdditionalProperties);
        Assert.Null(result.Usage);
        Assert.Null(result.CreatedAt);
        Assert.Equal(ChatFinishReason.Stop, result.FinishReason);
    }

    [Fact]
    public void FromGatehouseResponse_ToolCalls_ParsesArgumentsIntoFunctionCallContent()
    {
        var response = new G.ChatResponse
        {
            Id = "r",
            Model = "m",
            FinishReason = G.FinishReason.ToolCalls,
            Message = new G.ChatMessage
            {
                Role = G.ChatRole.Assistant,
                ToolCalls = [new G.ToolCall { Id = "call_9", Name = "get_weather", ArgumentsJson = """{"city":"Oslo","days":2}""" }],
            },
        };

        var result = ChatMapping.FromGatehouseResponse(response);

        Assert.Equal(ChatFinishReason.ToolCalls, result.FinishReason);
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(Assert.Single(result.Messages).Contents));
        Assert.Equal("call_9", call.CallId);
        Assert.Equal("get_weather", call.Name);
        Assert.Null(call.Exception);
        Assert.NotNull(call.Arguments);
        Assert.Equal("Oslo", Assert.IsType<JsonElement>(call.Arguments["city"]).GetString());
        Assert.Equal(2, Assert.IsType<JsonElement>(call.Arguments["days"]).GetInt32());
    }

    [Fact]
    public void FromGatehouseResponse_MalformedToolArguments_ReportsExceptionOnContent()
    {
        var response = new G.ChatResponse
        {
            Id = "r",
            Model = "m",
            Message = new G.ChatMessage { Role = G.ChatRole.Assistant, ToolCalls = [new G.ToolCall { Id = "c", Name = "f", ArgumentsJson = "{not json" }] },
        };

        var call = Assert.IsType<FunctionCallContent>(Assert.Single(Assert.Single(ChatMapping.FromGatehouseResponse(response).Messages).Contents));

        Assert.NotNull(call.Exception);
    }

    [Theory]
    [InlineData(G.FinishReason.Stop, "stop")]
    [InlineData(G.FinishReason.Length, "length")]
    [InlineData(G.FinishReason.ToolCalls, "tool_calls")]
    [InlineData(G.FinishReason.ContentFilter, "content_filter")]
    public void FromGatehouseFinishReason_EachReason_MapsToMeaiValue(G.FinishReason reason, string expected)
    {
        Assert.Equal(expected, ChatMapping.FromGatehouseFinishReason(reason).Value);
    }

    [Fact]
    public void FromGatehouseRole_EachRole_RoundTrips()
    {
        foreach (var role in Enum.GetValues<G.ChatRole>())
        {
            Assert.Equal(role, ChatMapping.ToGatehouseRole(ChatMapping.FromGatehouseRole(role)));
        }
    }

    [Fact]
    public void ToGatehouseRequest_ResponseFunctionCallsRoundTrip_PreservesIdNameAndArguments()
    {
        var response = new G.ChatResponse
        {
            Id = "r",
            Model = "m",
            Message = new G.ChatMessage
            {
                Role = G.ChatRole.Assistant,
                ToolCalls = [new G.ToolCall { Id = "call_1", Name = "f", ArgumentsJson = """{"a":[1,2],"b":{"c":null}}""" }],
            },
        };

        var history = ChatMapping.FromGatehouseResponse(response).Messages;
        var toolCall = Assert.Single(Assert.Single(ChatMapping.ToGatehouseRequest(history, options: null, "sim", stream: false).Messages).ToolCalls);

        Assert.Equal(response.Message.ToolCalls[0], toolCall);
    }

    private static G.ChatChunk Chunk(
        string? text = null,
        ImmutableArray<G.ToolCallDelta> toolCalls = default,
        G.FinishReason? finish = null,
        G.Usage? usage = null,
        G.ChatRole? role = null,
        G.RouteInfo? route = null) => new()
        {
            Id = "chatcmpl-s",
            Model = "upstream-model",
            Created = 1_700_000_100,
            Role = role,
            TextDelta = text,
            ToolCallDeltas = toolCalls.IsDefault ? [] : toolCalls,
            FinishReason = finish,
            Usage = usage,
            Route = route,
        };

    [Fact]
    public void StreamMap_TextDeltas_YieldTextContentWithIdsAndRoute()
    {
        var mapper = new ChatStreamMapper();

        var first = mapper.Map(Chunk("Hel", role: G.ChatRole.Assistant, route: new G.RouteInfo { Provider = "sim", Model = "upstream-model", Attempts = 1 }));
        var second = mapper.Map(Chunk("lo"));

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal("Hel", first.Text);
        Assert.Equal("lo", second.Text);
        Assert.Equal(ChatRole.Assistant, second.Role);
        Assert.Equal("chatcmpl-s", second.ResponseId);
        Assert.Equal("chatcmpl-s", second.MessageId);
        Assert.Equal("upstream-model", second.ModelId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_100), second.CreatedAt);
        Assert.NotNull(first.AdditionalProperties);
        Assert.Equal("sim", first.AdditionalProperties[GatehouseClientConstants.ProviderPropertyName]);
        Assert.Equal(1, first.AdditionalProperties[GatehouseClientConstants.AttemptsPropertyName]);
        Assert.Null(second.AdditionalProperties);
    }

    [Fact]
    public void StreamMap_ToolCallDeltasAcrossChunks_EmitsWholeCallsOnFinishInIndexOrder()
    {
        var mapper = new ChatStreamMapper();
        G.ChatChunk[] chunks =
        [
            Chunk(role: G.ChatRole.Assistant, toolCalls: [new G.ToolCallDelta { Index = 0, Id = "call_a", Name = "get_weather", ArgumentsDelta = "{\"ci" }]),
            Chunk(toolCalls: [new G.ToolCallDelta { Index = 1, Id = "call_b", Name = "get_time", ArgumentsDelta = "" }]),
            Chunk(toolCalls: [new G.ToolCallDelta { Index = 0, ArgumentsDelta = "ty\":\"Par" }, new G.ToolCallDelta { Index = 1, ArgumentsDelta = "{\"tz\":\"CET\"}" }]),
            Chunk(toolCalls: [new G.ToolCallDelta { Index = 0, ArgumentsDelta = "is\"}" }]),
        ];

        var beforeFinish = chunks.Select(mapper.Map).OfType<ChatResponseUpdate>().ToList();
        var finish = mapper.Map(Chunk(finish: G.FinishReason.ToolCalls));

        Assert.All(beforeFinish, u => Assert.Empty(u.Contents.OfType<FunctionCallContent>()));
        Assert.NotNull(finish);
        Assert.Equal(ChatFinishReason.ToolCalls, finish.FinishReason);
        var calls = finish.Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(("call_a", "get_weather"), (calls[0].CallId, calls[0].Name));
        Assert.Equal("Paris", Assert.IsType<JsonElement>(calls[0].Arguments!["city"]).GetString());
        Assert.Equal(("call_b", "get_time"), (calls[1].CallId, calls[1].Name));
        Assert.Equal("CET", Assert.IsType<JsonElement>(calls[1].Arguments!["tz"]).GetString());
        Assert.Null(mapper.Complete());
    }

    [Fact]
    public void StreamMap_ChunkWithOnlyToolCallFragments_YieldsNoUpdate()
    {
        var mapper = new ChatStreamMapper();

        var update = mapper.Map(Chunk(toolCalls: [new G.ToolCallDelta { Index = 0, Id = "c", Name = "f", ArgumentsDelta = "{" }]));

        Assert.Null(update);
    }

    [Fact]
    public void StreamComplete_StreamEndedWithoutFinish_FlushesPendingCalls()
    {
        var mapper = new ChatStreamMapper();
        mapper.Map(Chunk(toolCalls: [new G.ToolCallDelta { Index = 3, Name = "f", ArgumentsDelta = "{}" }]));

        var last = mapper.Complete();

        Assert.NotNull(last);
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(last.Contents));
        Assert.Equal("f", call.Name);
        Assert.Equal("call_3", call.CallId);
        Assert.Equal("chatcmpl-s", last.ResponseId);
    }

    [Fact]
    public void StreamMap_UsageChunk_YieldsUsageContent()
    {
        var mapper = new ChatStreamMapper();

        var update = mapper.Map(Chunk(usage: new G.Usage { PromptTokens = 5, CompletionTokens = 9 }));

        Assert.NotNull(update);
        var usage = Assert.IsType<UsageContent>(Assert.Single(update.Contents));
        Assert.Equal(5, usage.Details.InputTokenCount);
        Assert.Equal(9, usage.Details.OutputTokenCount);
        Assert.Equal(14, usage.Details.TotalTokenCount);
    }

    [Fact]
    public void StreamMap_WholeStreamCoalesced_MatchesNonStreamedShape()
    {
        var mapper = new ChatStreamMapper();
        G.ChatChunk[] chunks =
        [
            Chunk("Checking", role: G.ChatRole.Assistant),
            Chunk(" now.", toolCalls: [new G.ToolCallDelta { Index = 0, Id = "call_1", Name = "lookup", ArgumentsDelta = "{\"q\":" }]),
            Chunk(toolCalls: [new G.ToolCallDelta { Index = 0, ArgumentsDelta = "\"x\"}" }]),
            Chunk(finish: G.FinishReason.ToolCalls),
            Chunk(usage: new G.Usage { PromptTokens = 3, CompletionTokens = 4 }),
        ];

        var response = chunks.Select(mapper.Map).OfType<ChatResponseUpdate>().ToChatResponse();

        Assert.Equal("chatcmpl-s", response.ResponseId);
        Assert.Equal("upstream-model", response.ModelId);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.NotNull(response.Usage);
        Assert.Equal(3, response.Usage.InputTokenCount);
        Assert.Equal(4, response.Usage.OutputTokenCount);
        var message = Assert.Single(response.Messages);
        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.Equal("Checking now.", message.Text);
        var call = Assert.Single(message.Contents.OfType<FunctionCallContent>());
        Assert.Equal("call_1", call.CallId);
        Assert.Equal("x", Assert.IsType<JsonElement>(call.Arguments!["q"]).GetString());
    }
}
