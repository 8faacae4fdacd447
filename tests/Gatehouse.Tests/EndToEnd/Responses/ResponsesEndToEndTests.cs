using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI.Responses;

namespace Gatehouse.Tests.EndToEnd.Responses;

/// <summary>
/// The Responses API through a real silo with the official OpenAI SDK's <see cref="ResponsesClient"/>, answered by each
/// upstream kind through the canonical model.
/// </summary>
[Collection(ResponsesCollection.Name)]
public sealed class ResponsesEndToEndTests(ResponsesFixture fixture)
{
    [Theory]
    [InlineData("gpt")]
    [InlineData("claude")]
    [InlineData("llama")]
    public async Task Text_ThenPreviousResponseId_ContinuesTheConversationOnEachUpstreamKind(string alias)
    {
        var client = fixture.Client();
        var first = (await client.CreateResponseAsync(new CreateResponseOptions(alias, [ResponseItem.CreateUserMessageItem($"first turn {alias}")])
        {
            Instructions = "Answer briefly.",
        })).Value;

        Assert.Equal(ResponseStatus.Completed, first.Status);
        Assert.StartsWith("resp_", first.Id);
        Assert.Equal($"echo: first turn {alias}", first.GetOutputText());
        var firstUpstream = fixture.RequestsFor(alias).Last(r => r.Body.Contains($"first turn {alias}"));
        Assert.Contains("Answer briefly.", firstUpstream.Body);

        var second = (await client.CreateResponseAsync(new CreateResponseOptions(alias, [ResponseItem.CreateUserMessageItem($"second turn {alias}")])
        {
            PreviousResponseId = first.Id,
        })).Value;

        Assert.Equal($"echo: second turn {alias}", second.GetOutputText());
        Assert.Equal(first.Id, second.PreviousResponseId);
        var secondUpstream = fixture.RequestsFor(alias).Last(r => r.Body.Contains($"second turn {alias}"));
        // The whole conversation went upstream: the first turn and its answer, then the new input; the first
        // request's instructions do not carry over (as OpenAI does).
        Assert.Contains($"first turn {alias}", secondUpstream.Body);
        Assert.Contains($"echo: first turn {alias}", secondUpstream.Body);
        Assert.DoesNotContain("Answer briefly.", secondUpstream.Body);
    }

    [Fact]
    public async Task Usage_IsTheUpstreamsBilledUsage()
    {
        var result = (await fixture.Client().CreateResponseAsync(new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("count my tokens")]))).Value;

        // The OpenAI double bills 11 prompt and 7 completion tokens.
        Assert.Equal((11, 7, 18), (result.Usage.InputTokenCount, result.Usage.OutputTokenCount, result.Usage.TotalTokenCount));
    }

    [Fact]
    public async Task FunctionTool_RoundTrip_CallThenOutputThenAnswer()
    {
        var client = fixture.Client();
        var options = new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("weather in Paris, round trip")])
        {
            Tools = { WeatherTool() },
        };

        var first = (await client.CreateResponseAsync(options)).Value;
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal((ResponsesFixture.ToolCallId, "get_weather"), (call.CallId, call.FunctionName));
        Assert.Equal("""{"city":"Paris"}""", call.FunctionArguments.ToString());

        var second = (await client.CreateResponseAsync(new CreateResponseOptions("gpt", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "18 degrees and sunny")])
        {
            PreviousResponseId = first.Id,
            Tools = { WeatherTool() },
        })).Value;

        Assert.Equal(ResponseStatus.Completed, second.Status);
        var upstream = JsonNode.Parse(fixture.OpenAI.Requests.Last(r => r.Body.Contains("18 degrees and sunny")).Body)!;
        var messages = upstream["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "tool"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(ResponsesFixture.ToolCallId, messages[1]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(ResponsesFixture.ToolCallId, messages[2]!["tool_call_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("gpt")]
    [InlineData("claude")]
    public async Task FunctionTool_Streaming_ArgumentsDoneAndTheCompletedResponseCarryTheCall(string alias)
    {
        var options = new CreateResponseOptions(alias, [ResponseItem.CreateUserMessageItem($"weather in Paris, streamed {alias}")]) { Tools = { WeatherTool() }, StreamingEnabled = true };
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await fixture.Client().CreateResponseStreamingAsync(options))
        {
            updates.Add(update);
        }

        AssertSequenceNumbersIncrease(updates);
        var done = Assert.Single(updates.OfType<StreamingResponseFunctionCallArgumentsDoneUpdate>());
        Assert.Equal("""{"city":"Paris"}""", done.FunctionArguments.ToString());
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(completed.Response.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal(ResponseStatus.Completed, completed.Response.Status);
    }

    [Fact]
    public async Task Streaming_Text_EventsInOpenAIsOrder_AndTheStoredResponseReadsBackTheSame()
    {
        var client = fixture.Client();
        var options = new CreateResponseOptions("claude", [ResponseItem.CreateUserMessageItem("stream this text")]) { StreamingEnabled = true };
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            updates.Add(update);
        }

        AssertSequenceNumbersIncrease(updates);
        Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        Assert.IsType<StreamingResponseInProgressUpdate>(updates[1]);
        Assert.IsType<StreamingResponseOutputItemAddedUpdate>(updates[2]);
        Assert.IsType<StreamingResponseContentPartAddedUpdate>(updates[3]);
        Assert.Equal("echo: stream this text", string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));
        Assert.IsType<StreamingResponseOutputTextDoneUpdate>(updates[^4]);
        Assert.IsType<StreamingResponseContentPartDoneUpdate>(updates[^3]);
        Assert.IsType<StreamingResponseOutputItemDoneUpdate>(updates[^2]);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]).Response;
        Assert.Equal(13, completed.Usage.InputTokenCount);

        // Stored before response.completed went out: readable at once, the same response.
        var stored = (await client.GetResponseAsync(completed.Id)).Value;
        Assert.Equal((completed.Id, "echo: stream this text", ResponseStatus.Completed), (stored.Id, stored.GetOutputText(), stored.Status));
    }

    [Fact]
    public async Task Streaming_UpstreamBreaksAfterTheFirstText_EndsWithResponseFailed_NotAReset()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"gpt-cut","input":"break my stream","stream":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", ResponsesFixture.AppKey);
        using var response = await fixture.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<JsonNode>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var data = JsonNode.Parse(line["data: ".Length..])!;
                events.Add(data);
                if (data["type"]!.GetValue<string>() == "response.output_text.delta")
                {
                    fixture.CallerReadFirstDelta.TrySetResult();
                }
            }
        }

        var types = events.Select(e => e["type"]!.GetValue<string>()).ToList();
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e["sequence_number"]!.GetValue<int>()));
        Assert.Contains("response.output_text.delta", types);
        Assert.Equal("response.failed", types[^1]);
        Assert.Single(types, t => t is "response.completed" or "response.incomplete" or "response.failed");
        // The item that was open is closed before the end, never left dangling.
        Assert.Equal(types.Count(t => t == "response.output_item.added"), types.Count(t => t == "response.output_item.done"));
        Assert.Equal("failed", events[^1]["response"]!["status"]!.GetValue<string>());
        Assert.NotNull(events[^1]["response"]!["error"]!["message"]);
    }

    [Fact]
    public async Task JsonSchemaOutput_IsAskedOfTheUpstream()
    {
        var schema = BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""");
        var options = new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("json schema please")])
        {
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("city", schema, jsonSchemaIsStrict: true) },
        };

        var result = (await fixture.Client().CreateResponseAsync(options)).Value;

        Assert.Equal(ResponseStatus.Completed, result.Status);
        var format = JsonNode.Parse(fixture.OpenAI.Requests.Last(r => r.Body.Contains("json schema please")).Body)!["response_format"]!;
        Assert.Equal(("json_schema", "city", true), (format["type"]!.GetValue<string>(), format["json_schema"]!["name"]!.GetValue<string>(), format["json_schema"]!["strict"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task MaxOutputTokens_Reached_IsIncomplete()
    {
        var options = new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("please stop early")]) { MaxOutputTokenCount = 3 };

        var result = (await fixture.Client().CreateResponseAsync(options)).Value;

        Assert.Equal(ResponseStatus.Incomplete, result.Status);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, result.IncompleteStatusDetails.Reason);
        Assert.Equal("cut at the", result.GetOutputText());
        Assert.Equal(3, JsonNode.Parse(fixture.OpenAI.Requests.Last(r => r.Body.Contains("please stop early")).Body)!["max_completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task DeterministicRequestTwice_SecondIsACacheHit_UpstreamCalledOnce()
    {
        var client = fixture.Client();
        CreateResponseOptions Options() => new("gpt", [ResponseItem.CreateUserMessageItem("cache me, responses")]) { Temperature = 0 };

        var first = await client.CreateResponseAsync(Options());
        var second = await client.CreateResponseAsync(Options());

        Assert.Equal(1, fixture.OpenAI.Requests.Count(r => r.Body.Contains("cache me, responses")));
        Assert.Equal(("miss", "hit"), (Header(first, "x-gatehouse-cache"), Header(second, "x-gatehouse-cache")));
        Assert.NotEqual(first.Value.Id, second.Value.Id);
        Assert.Equal(first.Value.GetOutputText(), second.Value.GetOutputText());
        Assert.NotEqual("", Header(second, "x-ratelimit-remaining-requests"));
    }

    [Fact]
    public async Task FailingTarget_FallsBackToAnotherUpstreamKind()
    {
        var result = await fixture.Client().CreateResponseAsync(new CreateResponseOptions("gpt-flaky", [ResponseItem.CreateUserMessageItem("fall back, responses")]));

        Assert.Equal("echo: fall back, responses", result.Value.GetOutputText());
        Assert.Equal(("anthropic", "2"), (Header(result, "x-gatehouse-provider"), Header(result, "x-gatehouse-attempts")));
    }

    [Fact]
    public async Task StoredResponse_GetInputItemsDelete_OnlyForTheOwningApp()
    {
        var client = fixture.Client();
        var created = (await client.CreateResponseAsync(new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("keep me")]) { Metadata = { ["ticket"] = "T-1" } })).Value;

        var read = (await client.GetResponseAsync(created.Id)).Value;
        Assert.Equal((created.Id, "echo: keep me", "T-1"), (read.Id, read.GetOutputText(), read.Metadata["ticket"]));
        var inputs = new List<ResponseItem>();
        await foreach (var item in client.GetResponseInputItemsAsync(created.Id))
        {
            inputs.Add(item);
        }

        var input = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(inputs));
        Assert.Equal("keep me", input.Content[0].Text);

        var other = fixture.Client(ResponsesFixture.OtherAppKey);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => other.GetResponseAsync(created.Id))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => other.DeleteResponseAsync(created.Id))).Status);
        var continued = await Assert.ThrowsAsync<ClientResultException>(() => other.CreateResponseAsync(
            new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("steal")]) { PreviousResponseId = created.Id }));
        Assert.Equal(400, continued.Status);
        Assert.Contains("previous_response_id", continued.GetRawResponse()!.Content.ToString());

        Assert.True((await client.DeleteResponseAsync(created.Id)).Value.Deleted);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id))).Status);
    }

    [Fact]
    public async Task StoreFalse_AnswersButKeepsNothing()
    {
        var client = fixture.Client();
        var created = (await client.CreateResponseAsync(new CreateResponseOptions("gpt", [ResponseItem.CreateUserMessageItem("forget me")]) { StoredOutputEnabled = false })).Value;

        Assert.Equal("echo: forget me", created.GetOutputText());
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id))).Status);
    }

    [Fact]
    public async Task RequestIdAndRouteHeaders_AreOnTheAnswer()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"gpt","input":"headers please"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", ResponsesFixture.AppKey);
        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("openai", response.Headers.GetValues("x-gatehouse-provider").Single());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("response", body.RootElement.GetProperty("object").GetString());
    }

    private static ResponseTool WeatherTool() => ResponseTool.CreateFunctionTool(
        "get_weather",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""),
        strictModeEnabled: false,
        functionDescription: "The weather in a city");

    private static void AssertSequenceNumbersIncrease(List<StreamingResponseUpdate> updates)
    {
        Assert.NotEmpty(updates);
        for (var i = 0; i < updates.Count; i++)
        {
            Assert.Equal(i, updates[i].SequenceNumber);
        }
    }

    private static string Header<T>(ClientResult<T> result, string name) =>
        result.GetRawResponse().Headers.TryGetValue(name, out var value) ? value! : "";
}
