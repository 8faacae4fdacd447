using System.Buffers;
using System.ClientModel.Primitives;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Responses;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Responses;
using OpenAI.Responses;
using Xunit;
using static Gatehouse.Tests.Http.Responses.ResponsesResponseWriterTests;
using static Gatehouse.Tests.Http.Responses.ResponsesStreamWriterTests;

namespace Gatehouse.Tests.Http.Responses;

#pragma warning disable OPENAI001 // The SDK marks its Responses client experimental; it is the client these tests speak for.

/// <summary>What Gatehouse writes, read by the official OpenAI .NET SDK's own parsers; what the SDK sends, read by Gatehouse.</summary>
public sealed class ResponsesSdkCompatibilityTests
{
    [Fact]
    public async Task GetResponse_CompletedTextAnswer_IsParsedBySdk()
    {
        var stored = Stored(new ChatRequest
        {
            Model = "fast",
            Messages = [ChatMessage.FromText(ChatRole.User, "Hi")],
            Temperature = 0.5,
            TopP = 0.75,
            MaxTokens = 64,
            User = "user-7",
            Tools = [new ToolDefinition { Name = "lookup", Description = "Looks up.", ParametersJson = """{"type":"object"}""", Strict = true }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "lookup" },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = """{"type":"object"}""", Strict = true },
        }) with
        {
            Instructions = "Be brief.",
            PreviousResponseId = "resp_before",
            Metadata = ImmutableDictionary<string, string>.Empty.Add("team", "search"),
            Answer = TextAnswer("Hello there", FinishReason.Stop),
        };

        var result = await GetAsync(stored);

        Assert.Equal(Id, result.Id);
        Assert.Equal("response", result.Object);
        Assert.Equal(ResponseStatus.Completed, result.Status);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(CreatedAt), result.CreatedAt);
        Assert.Equal("gpt-4o-mini-2024-07-18", result.Model);
        Assert.Null(result.Error);
        Assert.Null(result.IncompleteStatusDetails);
        Assert.Equal("Hello there", result.GetOutputText());
        var message = Assert.IsType<MessageResponseItem>(Assert.Single(result.OutputItems), exactMatch: false);
        Assert.Equal(ResponseItemIds.Message(Id, 0), message.Id);
        Assert.Equal(MessageRole.Assistant, message.Role);
        Assert.Equal(MessageStatus.Completed, message.Status);
        Assert.Equal(12, result.Usage.InputTokenCount);
        Assert.Equal(4, result.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(3, result.Usage.OutputTokenCount);
        Assert.Equal(0, result.Usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal(15, result.Usage.TotalTokenCount);
        Assert.Equal(0.5f, result.Temperature);
        Assert.Equal(0.75f, result.TopP);
        Assert.Equal(64, result.MaxOutputTokenCount);
        Assert.Equal("user-7", result.EndUserId);
        Assert.Equal("resp_before", result.PreviousResponseId);
        Assert.Equal("search", result.Metadata["team"]);
        Assert.True(result.ParallelToolCallsEnabled);
        Assert.False(result.BackgroundModeEnabled);
        Assert.Equal(ResponseTruncationMode.Disabled, result.TruncationMode);
        Assert.Equal("Be brief.", Assert.IsType<MessageResponseItem>(Assert.Single(result.Instructions), exactMatch: false).Content[0].Text);
        var tool = Assert.IsType<FunctionTool>(Assert.Single(result.Tools));
        Assert.Equal("lookup", tool.FunctionName);
        Assert.Equal("Looks up.", tool.FunctionDescription);
        Assert.Equal("""{"type":"object"}""", tool.FunctionParameters.ToString());
        Assert.True(tool.StrictModeEnabled);
        Assert.Equal(ResponseToolChoiceKind.Function, result.ToolChoice.Kind);
        Assert.Equal("lookup", result.ToolChoice.FunctionName);
        Assert.Equal(ResponseTextFormatKind.JsonSchema, result.TextOptions.TextFormat.Kind);
    }

    [Fact]
    public async Task GetResponse_ToolCallAnswer_IsParsedBySdk()
    {
        var stored = Stored() with
        {
            Answer = TextAnswer("", FinishReason.ToolCalls) with
            {
                Message = new ChatMessage
                {
                    Role = ChatRole.Assistant,
                    ToolCalls = [new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }, new ToolCall { Id = "call_2", Name = "now" }],
                },
            },
        };

        var result = await GetAsync(stored);

        Assert.Equal(ResponseStatus.Completed, result.Status);
        var calls = result.OutputItems.Cast<FunctionCallResponseItem>().ToArray();
        Assert.Equal<string>([ResponseItemIds.FunctionCall(Id, 0), ResponseItemIds.FunctionCall(Id, 1)], calls.Select(c => c.Id));
        Assert.Equal<string>(["call_1", "call_2"], calls.Select(c => c.CallId));
        Assert.Equal<string>(["lookup", "now"], calls.Select(c => c.FunctionName));
        Assert.Equal<string>(["""{"q":"cat"}""", "{}"], calls.Select(c => c.FunctionArguments.ToString()));
        Assert.All(calls, c => Assert.Equal(FunctionCallStatus.Completed, c.Status));
    }

    [Fact]
    public async Task GetResponse_IncompleteAnswer_IsParsedBySdk()
    {
        var result = await GetAsync(Stored() with { Answer = TextAnswer("Once", FinishReason.Length) });

        Assert.Equal(ResponseStatus.Incomplete, result.Status);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, result.IncompleteStatusDetails.Reason);
        Assert.Equal(MessageStatus.Incomplete, Assert.IsType<MessageResponseItem>(Assert.Single(result.OutputItems), exactMatch: false).Status);
    }

    [Fact]
    public async Task GetResponse_InProgress_IsParsedBySdk()
    {
        var result = await GetAsync(Stored());

        Assert.Equal(ResponseStatus.InProgress, result.Status);
        Assert.Empty(result.OutputItems);
        Assert.Null(result.Usage);
        Assert.Equal("fast", result.Model);
        Assert.Equal(ResponseTextFormatKind.Text, result.TextOptions.TextFormat.Kind);
        Assert.Equal(ResponseToolChoiceKind.Auto, result.ToolChoice.Kind);
    }

    [Fact]
    public void Failed_IsParsedBySdkModelReader()
    {
        var json = Write(writer => ResponsesResponseWriter.WriteFailed(writer, Stored(), new GatewayException(GatewayError.RateLimited, "Slow down.")));

        var result = ModelReaderWriter.Read<ResponseResult>(BinaryData.FromString(json), ModelReaderWriterOptions.Json)!;

        Assert.Equal(ResponseStatus.Failed, result.Status);
        Assert.Equal(ResponseErrorCode.RateLimitExceeded, result.Error.Code);
        Assert.Equal("Slow down.", result.Error.Message);
        Assert.Empty(result.OutputItems);
    }

    [Fact]
    public async Task GetInputItems_IsParsedBySdk()
    {
        var body = Encoding.UTF8.GetBytes(Write(writer => ResponsesResponseWriter.WriteInputItems(writer, Conversation(), limit: 4, order: "asc")));
        var sdk = SdkResponsesClient.Json(body);

        var page = (await sdk.Client.GetResponseInputItemCollectionPageAsync(new ResponseItemCollectionOptions(Id) { PageSizeLimit = 4, Order = ResponseItemCollectionOrder.Ascending })).Value;

        Assert.Equal("list", page.Object);
        Assert.True(page.HasMore);
        Assert.Equal(ResponseItemIds.Input(Id, 0), page.FirstId);
        Assert.Equal(ResponseItemIds.Input(Id, 3), page.LastId);
        Assert.Equal(4, page.Data.Count);
        var system = Assert.IsType<MessageResponseItem>(page.Data[0], exactMatch: false);
        Assert.Equal(MessageRole.System, system.Role);
        Assert.Equal("Be brief.", system.Content[0].Text);
        var user = Assert.IsType<MessageResponseItem>(page.Data[1], exactMatch: false);
        Assert.Equal(MessageRole.User, user.Role);
        Assert.Equal<ResponseContentPartKind>([ResponseContentPartKind.InputText, ResponseContentPartKind.InputImage, ResponseContentPartKind.InputImage], user.Content.Select(p => p.Kind));
        Assert.Equal("https://example.com/cat.png", user.Content[1].InputImageUri);
        Assert.Equal(ResponseImageDetailLevel.High, user.Content[2].InputImageDetailLevel);
        var assistant = Assert.IsType<MessageResponseItem>(page.Data[2], exactMatch: false);
        Assert.Equal(MessageRole.Assistant, assistant.Role);
        Assert.Equal(ResponseContentPartKind.OutputText, assistant.Content[0].Kind);
        Assert.Equal("call_1", Assert.IsType<FunctionCallResponseItem>(page.Data[3]).CallId);
        Assert.Contains("limit=4", sdk.RequestUri!.Query, StringComparison.Ordinal);
        Assert.Contains("order=asc", sdk.RequestUri.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInputItems_FunctionCallOutput_IsParsedBySdk()
    {
        var body = Encoding.UTF8.GetBytes(Write(writer => ResponsesResponseWriter.WriteInputItems(writer, Conversation(), limit: 2)));
        var sdk = SdkResponsesClient.Json(body);

        var page = (await sdk.Client.GetResponseInputItemCollectionPageAsync(new ResponseItemCollectionOptions(Id))).Value;

        Assert.Equal("call_3", Assert.IsType<FunctionCallResponseItem>(page.Data[0]).CallId);
        var output = Assert.IsType<FunctionCallOutputResponseItem>(page.Data[1]);
        Assert.Equal("call_1", output.CallId);
        Assert.Equal("a cat", output.FunctionOutput);
    }

    [Fact]
    public async Task Delete_IsParsedBySdk()
    {
        var sdk = SdkResponsesClient.Json(Encoding.UTF8.GetBytes(Write(writer => ResponsesResponseWriter.WriteDeleted(writer, Id))));

        var deleted = (await sdk.Client.DeleteResponseAsync(Id)).Value;

        Assert.Equal(Id, deleted.ResponseId);
        Assert.True(deleted.Deleted);
        Assert.Equal("response", deleted.Object);
    }

    [Fact]
    public async Task Stream_Text_IsReadBySdk()
    {
        var updates = await StreamAsync(null,
            Chunk() with { Role = ChatRole.Assistant, TextDelta = "Hel" },
            Chunk() with { TextDelta = "lo" },
            Chunk() with { FinishReason = FinishReason.Stop },
            Chunk() with { Usage = new Usage { PromptTokens = 9, CompletionTokens = 2 } });

        Assert.Equal<int>([.. Enumerable.Range(0, updates.Count)], updates.Select(u => u.SequenceNumber));
        Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        Assert.Equal(ResponseStatus.InProgress, ((StreamingResponseCreatedUpdate)updates[0]).Response.Status);
        Assert.IsType<StreamingResponseInProgressUpdate>(updates[1]);
        var added = Assert.IsType<StreamingResponseOutputItemAddedUpdate>(updates[2]);
        Assert.Equal(MessageStatus.InProgress, Assert.IsType<MessageResponseItem>(added.Item, exactMatch: false).Status);
        Assert.IsType<StreamingResponseContentPartAddedUpdate>(updates[3]);
        var deltas = updates.OfType<StreamingResponseOutputTextDeltaUpdate>().ToArray();
        Assert.Equal("Hello", string.Concat(deltas.Select(d => d.Delta)));
        Assert.All(deltas, d => Assert.Equal(ResponseItemIds.Message(Id, 0), d.ItemId));
        Assert.Equal("Hello", Assert.Single(updates.OfType<StreamingResponseOutputTextDoneUpdate>()).Text);
        Assert.Equal("Hello", Assert.Single(updates.OfType<StreamingResponseContentPartDoneUpdate>()).Part.Text);
        var done = Assert.Single(updates.OfType<StreamingResponseOutputItemDoneUpdate>());
        Assert.Equal(MessageStatus.Completed, Assert.IsType<MessageResponseItem>(done.Item, exactMatch: false).Status);

        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Completed, completed.Response.Status);
        Assert.Equal("Hello", completed.Response.GetOutputText());
        Assert.Equal(11, completed.Response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Stream_ToolCalls_AreReadBySdk()
    {
        var updates = await StreamAsync(null,
            Chunk() with { Role = ChatRole.Assistant, TextDelta = "Checking." },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, Id = "call_a", Name = "weather", ArgumentsDelta = "{\"city\":" }] },
            Chunk() with { ToolCallDeltas = [new ToolCallDelta { Index = 0, ArgumentsDelta = "\"Oslo\"}" }, new ToolCallDelta { Index = 1, Id = "call_b", Name = "time", ArgumentsDelta = "{}" }] },
            Chunk() with { FinishReason = FinishReason.ToolCalls },
            Chunk() with { Usage = new Usage { PromptTokens = 20, CompletionTokens = 10 } });

        var deltas = updates.OfType<StreamingResponseFunctionCallArgumentsDeltaUpdate>().Where(d => d.OutputIndex == 1).ToArray();
        Assert.Equal("{\"city\":\"Oslo\"}", string.Concat(deltas.Select(d => d.Delta.ToString())));
        var done = updates.OfType<StreamingResponseFunctionCallArgumentsDoneUpdate>().ToArray();
        Assert.Equal<string>(["weather", "time"], done.Select(d => d.FunctionName));
        Assert.Equal<string>(["{\"city\":\"Oslo\"}", "{}"], done.Select(d => d.FunctionArguments.ToString()));
        var items = updates.OfType<StreamingResponseOutputItemDoneUpdate>().Select(u => u.Item).ToArray();
        Assert.IsType<MessageResponseItem>(items[0], exactMatch: false);
        var calls = items.Skip(1).Cast<FunctionCallResponseItem>().ToArray();
        Assert.Equal<string>(["call_a", "call_b"], calls.Select(c => c.CallId));

        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(3, completed.Response.OutputItems.Count);
        Assert.Equal<string>(
            [ResponseItemIds.Message(Id, 0), ResponseItemIds.FunctionCall(Id, 1), ResponseItemIds.FunctionCall(Id, 2)],
            completed.Response.OutputItems.Select(i => i.Id));
        Assert.Equal("time", ((FunctionCallResponseItem)completed.Response.OutputItems[2]).FunctionName);
    }

    [Fact]
    public async Task Stream_MaxTokensStop_IsReadBySdkAsIncomplete()
    {
        var updates = await StreamAsync(null,
            Chunk() with { TextDelta = "Once" },
            Chunk() with { FinishReason = FinishReason.Length });

        var incomplete = Assert.IsType<StreamingResponseIncompleteUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Incomplete, incomplete.Response.Status);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, incomplete.Response.IncompleteStatusDetails.Reason);
        Assert.Equal("Once", incomplete.Response.GetOutputText());
    }

    [Fact]
    public async Task Stream_Failure_IsReadBySdkAsResponseFailed()
    {
        var updates = await StreamAsync(new GatewayException(GatewayError.UpstreamFailed, "The upstream failed."), Chunk() with { TextDelta = "Hal" });

        Assert.DoesNotContain(updates, u => u is StreamingResponseErrorUpdate or StreamingResponseCompletedUpdate);
        var failed = Assert.IsType<StreamingResponseFailedUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Failed, failed.Response.Status);
        Assert.Equal(ResponseErrorCode.ServerError, failed.Response.Error.Code);
        Assert.Equal("The upstream failed.", failed.Response.Error.Message);
        var done = Assert.Single(updates.OfType<StreamingResponseOutputItemDoneUpdate>());
        Assert.Equal(MessageStatus.Incomplete, Assert.IsType<MessageResponseItem>(done.Item, exactMatch: false).Status);
    }

    [Fact]
    public async Task Stream_NoChunks_IsReadBySdk()
    {
        var updates = await StreamAsync(null);

        Assert.Equal(3, updates.Count);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Completed, completed.Response.Status);
        Assert.Empty(completed.Response.OutputItems);
    }

    /// <summary>What the SDK sends for a rich request is what Gatehouse reads.</summary>
    [Fact]
    public async Task SdkRequest_IsReadByTheReader()
    {
        var sdk = SdkResponsesClient.Json(Encoding.UTF8.GetBytes(Write(writer => ResponsesResponseWriter.WriteResponse(writer, Stored() with { Answer = TextAnswer("ok", FinishReason.Stop) }))));
        var options = new CreateResponseOptions
        {
            Model = "fast",
            Instructions = "Be brief.",
            InputItems =
            {
                ResponseItem.CreateDeveloperMessageItem("Answer in JSON."),
                ResponseItem.CreateUserMessageItem([ResponseContentPart.CreateInputTextPart("What is this?"), ResponseContentPart.CreateInputImagePart(new Uri("https://example.com/cat.png"), ResponseImageDetailLevel.Low)]),
                ResponseItem.CreateAssistantMessageItem("Let me look.", []),
                ResponseItem.CreateFunctionCallItem("call_1", "lookup", BinaryData.FromString("""{"q":"cat"}""")),
                ResponseItem.CreateFunctionCallOutputItem("call_1", "a cat"),
            },
            Tools = { ResponseTool.CreateFunctionTool("lookup", BinaryData.FromString("""{"type":"object"}"""), strictModeEnabled: true, functionDescription: "Looks up.") },
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
            Temperature = 0.5f,
            TopP = 0.5f,
            MaxOutputTokenCount = 128,
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonObjectFormat() },
            StoredOutputEnabled = false,
            PreviousResponseId = "resp_before",
            EndUserId = "user-7",
            ParallelToolCallsEnabled = false,
            TruncationMode = ResponseTruncationMode.Disabled,
            ServiceTier = ResponseServiceTier.Default,
            SafetyIdentifier = "s",
            PromptCacheKey = "k",
        };
        options.Metadata["team"] = "search";

        var result = (await sdk.Client.CreateResponseAsync(options)).Value;
        using var document = JsonDocument.Parse(sdk.RequestBody!);
        var request = ResponsesRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly);

        Assert.Equal("ok", result.GetOutputText());
        Assert.Equal("fast", request.Options.Model);
        Assert.Equal("Be brief.", request.Instructions);
        Assert.Equal<ChatRole>([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.Tool], request.Input.Select(m => m.Role));
        Assert.Equal("https://example.com/cat.png", request.Input[1].Content[1].ImageUrl);
        Assert.Equal("low", request.Input[1].Content[1].ImageDetail);
        Assert.Equal("Let me look.", request.Input[2].Text);
        Assert.Equal(new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }, Assert.Single(request.Input[2].ToolCalls));
        Assert.Equal("call_1", request.Input[3].ToolCallId);
        Assert.Equal(new ToolDefinition { Name = "lookup", Description = "Looks up.", ParametersJson = """{"type":"object"}""", Strict = true }, Assert.Single(request.Options.Tools));
        Assert.Equal(new ToolChoice { Mode = ToolChoiceMode.Required }, request.Options.ToolChoice);
        Assert.Equal(0.5, request.Options.Temperature);
        Assert.Equal(128, request.Options.MaxTokens);
        Assert.Equal(new ResponseFormat { Kind = ResponseFormatKind.JsonObject }, request.Options.ResponseFormat);
        Assert.False(request.Store);
        Assert.False(request.Stream);
        Assert.Equal("resp_before", request.PreviousResponseId);
        Assert.Equal("user-7", request.Options.User);
        Assert.False(request.Options.ParallelToolCalls);
        Assert.Equal("search", request.Metadata["team"]);
    }

    [Fact]
    public async Task SdkStreamingRequest_IsReadAsAStream()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new ResponsesStreamWriter(buffer, Stored()))
        {
            writer.Complete();
        }

        var sdk = SdkResponsesClient.EventStream(buffer.WrittenSpan.ToArray());
        await sdk.StreamAsync();
        using var document = JsonDocument.Parse(sdk.RequestBody!);

        Assert.True(ResponsesRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly).Stream);
    }

    private static async Task<ResponseResult> GetAsync(StoredResponse stored)
    {
        var sdk = SdkResponsesClient.Json(Encoding.UTF8.GetBytes(Write(writer => ResponsesResponseWriter.WriteResponse(writer, stored))));
        return (await sdk.Client.GetResponseAsync(stored.Id)).Value;
    }

    private static async Task<List<StreamingResponseUpdate>> StreamAsync(GatewayException? failure, params ChatChunk[] chunks)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new ResponsesStreamWriter(buffer, Stored()))
        {
            foreach (var chunk in chunks)
            {
                writer.Write(chunk);
            }

            if (failure is null)
            {
                writer.Complete();
            }
            else
            {
                writer.WriteError(failure);
            }
        }

        return await SdkResponsesClient.EventStream(buffer.WrittenSpan.ToArray()).StreamAsync();
    }
}
