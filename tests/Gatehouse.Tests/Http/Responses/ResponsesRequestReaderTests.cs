using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Responses;
using Xunit;

namespace Gatehouse.Tests.Http.Responses;

public sealed class ResponsesRequestReaderTests
{
    private const string Parameters = """{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}""";
    private const string Schema = """{"type":"object","properties":{"answer":{"type":"string"}}}""";

    [Fact]
    public void Read_RichRequest_MapsEveryField()
    {
        var json = $$$"""
            {
              "model": "fast",
              "input": [
                {"role": "system", "content": "Be brief."},
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Answer "}, {"type": "input_text", "text": "in JSON."}]},
                {"type": "message", "id": "msg_1", "status": "completed", "role": "user", "content": [
                  {"type": "input_text", "text": "What is this?"},
                  {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "high"},
                  {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "file_id": null}
                ]},
                {"type": "message", "role": "assistant", "content": [
                  {"type": "output_text", "text": "Looking ", "annotations": [], "logprobs": []},
                  {"type": "input_text", "text": "it up. "},
                  {"type": "refusal", "refusal": "No names."}
                ]},
                {"type": "function_call", "id": "fc_1", "status": "completed", "call_id": "call_1", "name": "lookup", "arguments": "{\"q\":\"cat\"}"},
                {"type": "function_call", "call_id": "call_2", "name": "lookup", "arguments": "{\"q\":\"dog\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "a cat"},
                {"type": "function_call_output", "id": "fco_2", "status": "completed", "call_id": "call_2", "output": [{"type": "input_text", "text": "a "}, {"type": "input_text", "text": "dog"}]}
              ],
              "instructions": "You are a helpful assistant.",
              "tools": [{"type": "function", "name": "lookup", "description": "Looks things up.", "parameters": {{{Parameters}}}, "strict": true}],
              "tool_choice": {"type": "function", "name": "lookup"},
              "temperature": 0.5,
              "top_p": 0.9,
              "max_output_tokens": 256,
              "text": {"format": {"type": "json_schema", "name": "answer", "schema": {{{Schema}}}, "strict": true}, "verbosity": null},
              "stream": true,
              "store": false,
              "previous_response_id": "resp_previous",
              "metadata": {"team": "search", "ticket": "T-1"},
              "user": "user-7",
              "parallel_tool_calls": false,
              "service_tier": "auto",
              "prompt_cache_key": "k",
              "safety_identifier": "s",
              "truncation": "disabled",
              "include": [],
              "background": false,
              "reasoning": null,
              "conversation": null,
              "prompt": null
            }
            """;

        var request = Read(json);

        Assert.True(request.Stream);
        Assert.False(request.Store);
        Assert.Equal("resp_previous", request.PreviousResponseId);
        Assert.Equal("You are a helpful assistant.", request.Instructions);
        Assert.Equal(2, request.Metadata.Count);
        Assert.Equal("search", request.Metadata["team"]);
        Assert.Equal("T-1", request.Metadata["ticket"]);

        var options = request.Options;
        Assert.Equal("fast", options.Model);
        Assert.Empty(options.Messages);
        Assert.Equal(0.5, options.Temperature);
        Assert.Equal(0.9, options.TopP);
        Assert.Equal(256, options.MaxTokens);
        Assert.Equal("user-7", options.User);
        Assert.False(options.ParallelToolCalls);
        Assert.True(options.IncludeUsage);
        Assert.Equal(new ToolDefinition { Name = "lookup", Description = "Looks things up.", ParametersJson = Parameters, Strict = true }, Assert.Single(options.Tools));
        Assert.Equal(new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "lookup" }, options.ToolChoice);
        Assert.Equal(new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = Schema, Strict = true }, options.ResponseFormat);

        var input = request.Input;
        Assert.Equal(6, input.Length);
        Assert.Equal(ChatRole.System, input[0].Role);
        Assert.Equal("Be brief.", input[0].Text);
        Assert.Equal(ChatRole.System, input[1].Role);
        Assert.Equal("Answer in JSON.", input[1].Text);

        Assert.Equal(ChatRole.User, input[2].Role);
        Assert.Equal<ContentPart>(
        [
            ContentPart.FromText("What is this?"),
            new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png", ImageDetail = "high" },
            new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,AAAA" },
        ], input[2].Content);

        // The assistant message and the two function calls after it are one assistant turn.
        var assistant = input[3];
        Assert.Equal(ChatRole.Assistant, assistant.Role);
        Assert.Equal("Looking it up. No names.", assistant.Text);
        Assert.Equal<ToolCall>(
        [
            new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" },
            new ToolCall { Id = "call_2", Name = "lookup", ArgumentsJson = """{"q":"dog"}""" },
        ], assistant.ToolCalls);

        Assert.Equal(ChatRole.Tool, input[4].Role);
        Assert.Equal("call_1", input[4].ToolCallId);
        Assert.Equal("a cat", input[4].Text);
        Assert.Equal(ChatRole.Tool, input[5].Role);
        Assert.Equal("call_2", input[5].ToolCallId);
        Assert.Equal<ContentPart>([ContentPart.FromText("a dog")], input[5].Content);
    }

    [Fact]
    public void Read_StringInput_IsOneUserMessageAndDefaultsApply()
    {
        var request = Read("""{"model":"fast","input":"Hello"}""");

        var message = Assert.Single(request.Input);
        Assert.Equal(ChatRole.User, message.Role);
        Assert.Equal<ContentPart>([ContentPart.FromText("Hello")], message.Content);
        Assert.Empty(message.ToolCalls);
        Assert.Null(message.ToolCallId);

        Assert.False(request.Stream);
        Assert.True(request.Store);
        Assert.Null(request.PreviousResponseId);
        Assert.Null(request.Instructions);
        Assert.Empty(request.Metadata);

        var options = request.Options;
        Assert.Empty(options.Messages);
        Assert.True(options.IncludeUsage);
        Assert.Null(options.Temperature);
        Assert.Null(options.TopP);
        Assert.Null(options.MaxTokens);
        Assert.Null(options.ResponseFormat);
        Assert.Empty(options.Tools);
        Assert.Null(options.ToolChoice);
        Assert.Null(options.User);
        Assert.Null(options.ParallelToolCalls);
        Assert.Empty(options.Stop);
        Assert.Null(options.Seed);
    }

    [Fact]
    public void Read_NullOptionalFields_AreUnset()
    {
        var request = Read("""
            {"model":"fast","input":"hi","instructions":null,"tools":null,"tool_choice":null,"temperature":null,"top_p":null,
             "max_output_tokens":null,"text":null,"stream":null,"store":null,"previous_response_id":null,"metadata":null,"user":null,
             "parallel_tool_calls":null,"truncation":null,"include":null,"background":null,"service_tier":null}
            """);

        Assert.True(request.Store);
        Assert.False(request.Stream);
        Assert.Null(request.Options.MaxTokens);
        Assert.Null(request.Options.ResponseFormat);
        Assert.Empty(request.Metadata);
    }

    [Fact]
    public void Read_FunctionCallWithoutAssistantMessageBefore_StartsAnAssistantTurn()
    {
        var request = Read("""
            {"model":"fast","input":[
              {"role":"user","content":"weather?"},
              {"type":"function_call","call_id":"c1","name":"weather","arguments":"{}"},
              {"type":"function_call","call_id":"c2","name":"time","arguments":""},
              {"type":"function_call_output","call_id":"c1","output":"sunny"},
              {"type":"function_call","call_id":"c3","name":"weather","arguments":"{\"day\":2}"}
            ]}
            """);

        Assert.Equal<ChatRole>([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.Assistant], request.Input.Select(m => m.Role));
        Assert.Empty(request.Input[1].Content);
        Assert.Equal<string>(["c1", "c2"], request.Input[1].ToolCalls.Select(c => c.Id));
        Assert.Equal("", request.Input[1].ToolCalls[1].ArgumentsJson);
        Assert.Equal("c3", Assert.Single(request.Input[3].ToolCalls).Id);
    }

    [Fact]
    public void Read_ConsecutiveAssistantMessages_StaySeparate()
    {
        var request = Read("""
            {"model":"fast","input":[
              {"role":"assistant","content":"one"},
              {"role":"assistant","content":"two"},
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"role":"assistant","content":"three"}
            ]}
            """);

        Assert.Equal<string>(["one", "two", "three"], request.Input.Select(m => m.Text));
        Assert.Empty(request.Input[0].ToolCalls);
        Assert.Equal("c1", Assert.Single(request.Input[1].ToolCalls).Id);
        Assert.Empty(request.Input[2].ToolCalls);
    }

    [Theory]
    [InlineData("""{"model":"fast","previous_response_id":"resp_1"}""")]
    [InlineData("""{"model":"fast","previous_response_id":"resp_1","input":[]}""")]
    [InlineData("""{"model":"fast","previous_response_id":"resp_1","input":null}""")]
    public void Read_ContinuationWithoutInput_IsAccepted(string json)
    {
        var request = Read(json);

        Assert.Empty(request.Input);
        Assert.Equal("resp_1", request.PreviousResponseId);
    }

    [Theory]
    [InlineData("auto", ToolChoiceMode.Auto)]
    [InlineData("none", ToolChoiceMode.None)]
    [InlineData("required", ToolChoiceMode.Required)]
    public void Read_ToolChoiceString_MapsMode(string value, ToolChoiceMode mode)
    {
        var request = Read($$"""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":"{{value}}"}""");

        Assert.Equal(new ToolChoice { Mode = mode }, request.Options.ToolChoice);
        Assert.Equal(new ToolDefinition { Name = "f" }, Assert.Single(request.Options.Tools));
    }

    [Theory]
    [InlineData("""{"format":{"type":"text"}}""", ResponseFormatKind.Text)]
    [InlineData("""{"format":{"type":"json_object"}}""", ResponseFormatKind.JsonObject)]
    public void Read_SimpleTextFormat_MapsKind(string text, ResponseFormatKind kind)
    {
        var request = Read($$"""{"model":"fast","input":"hi","text":{{text}}}""");

        Assert.Equal(new ResponseFormat { Kind = kind }, request.Options.ResponseFormat);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"format":null}""")]
    [InlineData("""{"verbosity":null}""")]
    public void Read_TextWithoutFormat_LeavesFormatUnset(string text)
    {
        var request = Read($$"""{"model":"fast","input":"hi","text":{{text}}}""");

        Assert.Null(request.Options.ResponseFormat);
    }

    [Fact]
    public void Read_HttpImageUrl_AcceptedWhenTheOperatorAllowsIt()
    {
        using var document = JsonDocument.Parse(ImageRequest("http://models.lan/cat.png"));

        var request = ResponsesRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpAllowed);

        Assert.Equal("http://models.lan/cat.png", request.Input[0].Content[0].ImageUrl);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("gopher://127.0.0.1:6379/_FLUSHALL")]
    [InlineData("data:text/plain;base64,aGk=")]
    public void Read_ImageUrlOtherThanHttpsOrImageData_Is400NamingIt(string url)
    {
        var error = Assert.Throws<GatewayException>(() => Read(ImageRequest(url)));

        Assert.Equal("input[0].content[0].image_url", error.Param);
        Assert.Equal("Invalid 'input[0].content[0].image_url': it must be an https: URL or a base64 data: URI.", error.Message);
    }

    [Theory]
    // The body and the model.
    [InlineData("""[1,2]""", null)]
    [InlineData("\"text\"", null)]
    [InlineData("""{"input":"hi"}""", "model")]
    [InlineData("""{"model":"  ","input":"hi"}""", "model")]
    [InlineData("""{"model":5,"input":"hi"}""", "model")]
    [InlineData("""{"model":null,"input":"hi"}""", "model")]
    // The input.
    [InlineData("""{"model":"fast"}""", "input")]
    [InlineData("""{"model":"fast","input":[]}""", "input")]
    [InlineData("""{"model":"fast","input":null}""", "input")]
    [InlineData("""{"model":"fast","input":5}""", "input")]
    [InlineData("""{"model":"fast","input":{}}""", "input")]
    [InlineData("""{"model":"fast","input":["hi"]}""", "input[0]")]
    [InlineData("""{"model":"fast","input":["hi",[]]}""", "input[0]")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":"a"},null]}""", "input[1]")]
    [InlineData("""{"model":"fast","input":[{"content":"hi"}]}""", "input[0].role")]
    [InlineData("""{"model":"fast","input":[{"role":"user"}]}""", "input[0].content")]
    [InlineData("""{"model":"fast","input":[{"role":"wizard","content":"hi"}]}""", "input[0].role")]
    [InlineData("""{"model":"fast","input":[{"role":"tool","content":"hi"}]}""", "input[0].role")]
    [InlineData("""{"model":"fast","input":[{"role":7,"content":"hi"}]}""", "input[0].role")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":42}]}""", "input[0].content")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":null}]}""", "input[0].content")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[]}]}""", "input[0].content")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":["hi"]}]}""", "input[0].content[0]")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"text":"hi"}]}]}""", "input[0].content[0]")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":5}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_file","file_id":"file_1"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"text","text":"chat style"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"output_text","text":"x"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"refusal","refusal":"x"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_text"}]}]}""", "input[0].content[0].text")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_text","text":5}]}]}""", "input[0].content[0].text")]
    [InlineData("""{"model":"fast","input":[{"role":"assistant","content":[{"type":"output_text"}]}]}""", "input[0].content[0].text")]
    [InlineData("""{"model":"fast","input":[{"role":"assistant","content":[{"type":"output_text","text":"x","annotations":{}}]}]}""", "input[0].content[0].annotations")]
    [InlineData("""{"model":"fast","input":[{"role":"assistant","content":[{"type":"refusal"}]}]}""", "input[0].content[0].refusal")]
    [InlineData("""{"model":"fast","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"https://a.example/x.png"}]}]}""", "input[0].content[0]")]
    [InlineData("""{"model":"fast","input":[{"role":"system","content":[{"type":"input_image","image_url":"https://a.example/x.png"}]}]}""", "input[0].content[0]")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}""", "input[0].content[0].file_id")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image"}]}]}""", "input[0].content[0].image_url")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":{"url":"https://a.example/x.png"}}]}]}""", "input[0].content[0].image_url")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://a.example/x.png","detail":3}]}]}""", "input[0].content[0].detail")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":"hi","id":5}]}""", "input[0].id")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":"hi","status":true}]}""", "input[0].status")]
    [InlineData("""{"model":"fast","input":[{"type":5,"role":"user","content":"hi"}]}""", "input[0].type")]
    [InlineData("""{"model":"fast","input":[{"type":"reasoning","id":"rs_1","summary":[]}]}""", "input[0].type")]
    [InlineData("""{"model":"fast","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0].type")]
    [InlineData("""{"model":"fast","input":[{"type":"web_search_call","id":"ws_1"}]}""", "input[0].type")]
    [InlineData("""{"model":"fast","input":[{"type":"input_text","text":"hi"}]}""", "input[0].type")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":"hi"},{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[1].call_id")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call","call_id":"c","arguments":"{}"}]}""", "input[0].name")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call","call_id":"c","name":"f"}]}""", "input[0].arguments")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call","call_id":"c","name":"f","arguments":{}}]}""", "input[0].arguments")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call","call_id":5,"name":"f","arguments":"{}"}]}""", "input[0].call_id")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","output":"x"}]}""", "input[0].call_id")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c"}]}""", "input[0].output")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":5}]}""", "input[0].output")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":[5]}]}""", "input[0].output[0]")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"https://a.example/x.png"}]}]}""", "input[0].output[0].type")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text"}]}]}""", "input[0].output[0].text")]
    // Tools and the tool choice.
    [InlineData("""{"model":"fast","input":"hi","tools":{}}""", "tools")]
    [InlineData("""{"model":"fast","input":"hi","tools":[5]}""", "tools[0]")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"name":"f"}]}""", "tools[0].type")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":5,"name":"f"}]}""", "tools[0].type")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function"}]}""", "tools[0].name")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f","parameters":"{}"}]}""", "tools[0].parameters")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f","strict":"yes"}]}""", "tools[0].strict")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f","description":5}]}""", "tools[0].description")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","function":{"name":"f"}}]}""", "tools[0].function")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f"},{"type":"web_search"}]}""", "tools[1].type")]
    [InlineData("""{"model":"fast","input":"hi","tool_choice":"sometimes"}""", "tool_choice")]
    [InlineData("""{"model":"fast","input":"hi","tool_choice":5}""", "tool_choice")]
    [InlineData("""{"model":"fast","input":"hi","tool_choice":{"name":"f"}}""", "tool_choice.type")]
    [InlineData("""{"model":"fast","input":"hi","tool_choice":{"type":"file_search"}}""", "tool_choice.type")]
    [InlineData("""{"model":"fast","input":"hi","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}""", "tool_choice.type")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function"}}""", "tool_choice.name")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"ghost"}}""", "tool_choice")]
    // Sampling and limits.
    [InlineData("""{"model":"fast","input":"hi","temperature":"warm"}""", "temperature")]
    [InlineData("""{"model":"fast","input":"hi","temperature":2.5}""", "temperature")]
    [InlineData("""{"model":"fast","input":"hi","temperature":-0.1}""", "temperature")]
    [InlineData("""{"model":"fast","input":"hi","temperature":1e400}""", "temperature")]
    [InlineData("""{"model":"fast","input":"hi","top_p":1.5}""", "top_p")]
    [InlineData("""{"model":"fast","input":"hi","top_p":-1e400}""", "top_p")]
    [InlineData("""{"model":"fast","input":"hi","max_output_tokens":0}""", "max_output_tokens")]
    [InlineData("""{"model":"fast","input":"hi","max_output_tokens":1.5}""", "max_output_tokens")]
    [InlineData("""{"model":"fast","input":"hi","max_output_tokens":99999999999}""", "max_output_tokens")]
    [InlineData("""{"model":"fast","input":"hi","max_output_tokens":"16"}""", "max_output_tokens")]
    // Text format.
    [InlineData("""{"model":"fast","input":"hi","text":"json"}""", "text")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":"json"}}""", "text.format")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{}}}""", "text.format")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"yaml"}}}""", "text.format.type")]
    [InlineData("""{"model":"fast","input":"hi","text":{"verbosity":"low"}}""", "text.verbosity")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"json_schema","schema":{}}}}""", "text.format.name")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"json_schema","name":"a","schema":"{}"}}}""", "text.format.schema")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"json_schema","name":"a","description":"d"}}}""", "text.format.description")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"json_schema","name":"a","strict":"yes"}}}""", "text.format.strict")]
    // Switches Gatehouse cannot honour, and the rest.
    [InlineData("""{"model":"fast","input":"hi","stream":"yes"}""", "stream")]
    [InlineData("""{"model":"fast","input":"hi","store":"no"}""", "store")]
    [InlineData("""{"model":"fast","input":"hi","background":true}""", "background")]
    [InlineData("""{"model":"fast","input":"hi","background":"yes"}""", "background")]
    [InlineData("""{"model":"fast","input":"hi","reasoning":{"effort":"high"}}""", "reasoning")]
    [InlineData("""{"model":"fast","input":"hi","reasoning":{}}""", "reasoning")]
    [InlineData("""{"model":"fast","input":"hi","conversation":"conv_1"}""", "conversation")]
    [InlineData("""{"model":"fast","prompt":{"id":"pmpt_1"}}""", "prompt")]
    [InlineData("""{"model":"fast","input":"hi","truncation":"auto"}""", "truncation")]
    [InlineData("""{"model":"fast","input":"hi","truncation":false}""", "truncation")]
    [InlineData("""{"model":"fast","input":"hi","include":["file_search_call.results"]}""", "include")]
    [InlineData("""{"model":"fast","input":"hi","include":"message.output_text.logprobs"}""", "include")]
    [InlineData("""{"model":"fast","input":"hi","metadata":"team"}""", "metadata")]
    [InlineData("""{"model":"fast","input":"hi","metadata":{"team":1}}""", "metadata.team")]
    [InlineData("""{"model":"fast","input":"hi","metadata":{"team":null}}""", "metadata.team")]
    [InlineData("""{"model":"fast","input":"hi","previous_response_id":5}""", "previous_response_id")]
    [InlineData("""{"model":"fast","input":"hi","previous_response_id":""}""", "previous_response_id")]
    [InlineData("""{"model":"fast","input":"hi","user":5}""", "user")]
    [InlineData("""{"model":"fast","input":"hi","instructions":["be brief"]}""", "instructions")]
    [InlineData("""{"model":"fast","input":"hi","parallel_tool_calls":"yes"}""", "parallel_tool_calls")]
    public void Read_InvalidInput_ThrowsInvalidRequestNamingParam(string json, string? param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
    }

    [Theory]
    [InlineData("web_search")]
    [InlineData("web_search_preview")]
    [InlineData("file_search")]
    [InlineData("code_interpreter")]
    [InlineData("computer_use_preview")]
    [InlineData("mcp")]
    [InlineData("image_generation")]
    [InlineData("local_shell")]
    [InlineData("custom")]
    public void Read_BuiltInTool_Is400NamingTheType(string type)
    {
        var error = Assert.Throws<GatewayException>(() => Read($$"""{"model":"fast","input":"hi","tools":[{"type":"{{type}}"}]}"""));

        Assert.Equal("tools[0].type", error.Param);
        Assert.Equal($"Gatehouse does not support the '{type}' tool; only 'function' tools are supported.", error.Message);
    }

    [Theory]
    [InlineData("computer_call")]
    [InlineData("file_search_call")]
    [InlineData("mcp_approval_response")]
    [InlineData("custom_tool_call_output")]
    public void Read_UnknownItemType_Is400NamingTheType(string type)
    {
        var error = Assert.Throws<GatewayException>(() => Read($$"""{"model":"fast","input":[{"type":"{{type}}"}]}"""));

        Assert.Equal("input[0].type", error.Param);
        Assert.Contains($"'{type}'", error.Message);
    }

    [Fact]
    public void Read_Metadata_EnforcesOpenAILimits()
    {
        var sixteen = string.Join(",", Enumerable.Range(0, 16).Select(i => $"\"k{i}\":\"v\""));
        var seventeen = string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\""));
        var longestKey = new string('k', 64);
        var longestValue = new string('v', 512);

        Assert.Equal(16, Read($$$"""{"model":"fast","input":"hi","metadata":{{{{sixteen}}}}}""").Metadata.Count);
        Assert.Equal(longestValue, Read($$$"""{"model":"fast","input":"hi","metadata":{"{{{longestKey}}}":"{{{longestValue}}}"}}""").Metadata[longestKey]);

        Assert.Equal("metadata", Assert.Throws<GatewayException>(() => Read($$$"""{"model":"fast","input":"hi","metadata":{{{{seventeen}}}}}""")).Param);
        Assert.Equal("metadata", Assert.Throws<GatewayException>(() => Read($$$"""{"model":"fast","input":"hi","metadata":{"{{{longestKey}}}k":"v"}}""")).Param);
        Assert.Equal("metadata.k", Assert.Throws<GatewayException>(() => Read($$$"""{"model":"fast","input":"hi","metadata":{"k":"{{{longestValue}}}v"}}""")).Param);
    }

    [Theory]
    [InlineData("""{"model":"fast","input":"hi","foo":1}""", "foo")]
    [InlineData("""{"model":"fast","input":"hi","messages":[]}""", "messages")]
    [InlineData("""{"model":"fast","input":"hi","max_tokens":5}""", "max_tokens")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":"hi","foo":1}]}""", "input[0].foo")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":"hi","name":"ann"}]}""", "input[0].name")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_text","text":"hi","foo":1}]}]}""", "input[0].content[0].foo")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://a.example/x.png","size":2}]}]}""", "input[0].content[0].size")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{}","foo":1}]}""", "input[0].foo")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":"x","foo":1}]}""", "input[0].foo")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f","foo":1}]}""", "tools[0].foo")]
    [InlineData("""{"model":"fast","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"f","foo":1}}""", "tool_choice.foo")]
    [InlineData("""{"model":"fast","input":"hi","text":{"foo":1}}""", "text.foo")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"text","foo":1}}}""", "text.format.foo")]
    [InlineData("""{"model":"fast","input":"hi","text":{"format":{"type":"json_schema","name":"a","foo":1}}}""", "text.format.foo")]
    public void Read_UnknownField_Is400InOpenAIWords(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(param, error.Param);
        Assert.Equal($"Unrecognized request argument supplied: {param}", error.Message);
    }

    [Theory]
    [InlineData("reasoning", """{"effort":"low"}""")]
    [InlineData("conversation", """{"id":"conv_1"}""")]
    [InlineData("prompt", """{"id":"pmpt_1"}""")]
    public void Read_FieldThatChangesTheAnswerButCannotBeCarried_Is400NamingIt(string field, string value)
    {
        var error = Assert.Throws<GatewayException>(() => Read($$"""{"model":"fast","input":"hi","{{field}}":{{value}}}"""));

        Assert.Equal(field, error.Param);
        Assert.Equal($"Gatehouse does not support '{field}'.", error.Message);
    }

    [Theory]
    [InlineData("""{"model":"fast","input":"\ud800"}""", "input")]
    [InlineData("""{"model":"f\udfffast","input":"hi"}""", "model")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_text","text":"a\ud83d"}]}]}""", "input[0].content[0].text")]
    [InlineData("""{"model":"fast","input":"hi","metadata":{"k":"\udc00"}}""", "metadata.k")]
    public void Read_LoneSurrogate_Is400NamingWhere(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(param, error.Param);
        Assert.StartsWith($"Invalid '{param}': the string is not valid UTF-8 text", error.Message);
    }

    [Fact]
    public void Read_WrongType_SaysExpectedAndActualType()
    {
        var error = Assert.Throws<GatewayException>(() => Read("""{"model":"fast","input":true}"""));

        Assert.Equal("Invalid type for 'input': expected a string or an array of input items, but got a boolean instead.", error.Message);
    }

    /// <summary>Hand-written garbage: whatever the body, only a <see cref="GatewayException"/> may escape.</summary>
    [Theory]
    [InlineData("null")]
    [InlineData("5")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"model":"fast","input":5}""")]
    [InlineData("""{"model":"fast","input":[[]]}""")]
    [InlineData("""{"model":"fast","input":[[[[[[[[[[]]]]]]]]]]}""")]
    [InlineData("""{"model":"fast","input":[{}]}""")]
    [InlineData("""{"model":"fast","input":[{"type":null}]}""")]
    [InlineData("""{"model":"fast","input":[{"type":{}}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":null,"content":null}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[null]}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":null}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":null,"file_id":null}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,"}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,%%%%"}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://"}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":""}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call","call_id":null,"name":null,"arguments":null}]}""")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":null}]}""")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":[null,{}]}]}""")]
    [InlineData("""{"model":"fast","input":[{"type":"function_call_output","call_id":"c","output":{"type":"input_text","text":"x"}}]}""")]
    [InlineData("""{"model":"fast","input":"x","tools":[null]}""")]
    [InlineData("""{"model":"fast","input":"x","tools":[{"type":null}]}""")]
    [InlineData("""{"model":"fast","input":"x","tools":[{"type":"function","name":null,"parameters":[]}]}""")]
    [InlineData("""{"model":"fast","input":"x","tool_choice":{"type":5}}""")]
    [InlineData("""{"model":"fast","input":"x","tool_choice":{"type":"function","name":null}}""")]
    [InlineData("""{"model":"fast","input":"x","tool_choice":[]}""")]
    [InlineData("""{"model":"fast","input":"x","temperature":1e400,"top_p":-1e400}""")]
    [InlineData("""{"model":"fast","input":"x","temperature":-0,"top_p":0.0000000000000000000000000001}""")]
    [InlineData("""{"model":"fast","input":"x","max_output_tokens":-1e400}""")]
    [InlineData("""{"model":"fast","input":"x","max_output_tokens":123456789012345678901234567890}""")]
    [InlineData("""{"model":"fast","input":"x","text":{"format":{"type":"json_schema","name":5}}}""")]
    [InlineData("""{"model":"fast","input":"x","text":{"format":{"type":null}}}""")]
    [InlineData("""{"model":"fast","input":"x","text":[]}""")]
    [InlineData("""{"model":"fast","input":"x","include":[null]}""")]
    [InlineData("""{"model":"fast","input":"x","metadata":{"":""}}""")]
    [InlineData("""{"model":"fast","input":"x","metadata":{"a":{"b":"c"}}}""")]
    [InlineData("""{"model":"fast","input":"x","metadata":[]}""")]
    [InlineData("""{"model":"fast","input":"x","truncation":{}}""")]
    [InlineData("""{"model":"fast","input":"x","background":{}}""")]
    [InlineData("""{"model":"fast","input":"x","stream":0}""")]
    [InlineData("""{"model":"fast","input":"x","model":null}""")]
    [InlineData("""{"model":"fast","input":"x","":""}""")]
    public void Read_MalformedBody_ThrowsNothingButGatewayException(string json)
    {
        var error = Record.Exception(() => Read(json));

        Assert.True(error is null or GatewayException { Error: GatewayError.InvalidRequest }, $"{json}: {error}");
    }

    /// <summary>
    /// Every value of a rich valid body, one at a time, replaced by each kind of garbage: only a
    /// <see cref="GatewayException"/> may escape, whatever the shape.
    /// </summary>
    [Fact]
    public void Read_EveryValueReplacedByGarbage_ThrowsNothingButGatewayException()
    {
        const string Body = """
            {"model":"fast","input":[
              {"role":"system","content":"Be brief."},
              {"type":"message","id":"m","status":"completed","role":"user","content":[{"type":"input_text","text":"What?"},{"type":"input_image","image_url":"https://example.com/a.png","detail":"low"}]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"It","annotations":[],"logprobs":[]},{"type":"refusal","refusal":"no"}]},
              {"type":"function_call","id":"fc","status":"completed","call_id":"c1","name":"f","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"out"}]}
             ],
             "instructions":"i","tools":[{"type":"function","name":"f","description":"d","parameters":{"type":"object"},"strict":true}],
             "tool_choice":{"type":"function","name":"f"},"temperature":1,"top_p":1,"max_output_tokens":10,
             "text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"},"strict":true},"verbosity":null},
             "stream":true,"store":true,"previous_response_id":"resp_1","metadata":{"a":"b"},"user":"u","parallel_tool_calls":true,
             "truncation":"disabled","include":[],"background":false,"reasoning":null,"service_tier":"auto"}
            """;
        string[] garbage = ["null", "0", "-1", "1e400", "-1e400", "123456789012345678901234567890", "0.5", "\"\"", "\"x\"", "\"\\ud800\"", "true", "false", "[]", "{}", "[null]", "[[[]]]", "{\"type\":null}", "{\"type\":\"message\"}", "[{\"type\":5}]"];
        using var document = JsonDocument.Parse(Body);
        Assert.Equal("fast", ResponsesRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly).Options.Model);

        var paths = new List<string[]>();
        CollectPaths(document.RootElement, [], paths);
        var failures = new List<string>();
        var cases = 0;
        foreach (var path in paths)
        {
            foreach (var value in garbage)
            {
                var json = Replace(document.RootElement, path, 0, value);
                cases++;
                var error = Record.Exception(() => Read(json));
                if (error is not (null or GatewayException { Error: GatewayError.InvalidRequest }))
                {
                    failures.Add($"{string.Join('/', path)} = {value}: {error.GetType().Name}: {error.Message}");
                }
            }
        }

        Assert.True(cases > 1000, $"only {cases} cases");
        Assert.Empty(failures);
    }

    private static void CollectPaths(JsonElement element, string[] path, List<string[]> paths)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string[] child = [.. path, property.Name];
                    paths.Add(child);
                    CollectPaths(property.Value, child, paths);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    string[] child = [.. path, $"#{index++}"];
                    paths.Add(child);
                    CollectPaths(item, child, paths);
                }

                break;
        }
    }

    /// <summary>The element's JSON with the value at <paramref name="path"/> replaced by <paramref name="value"/>.</summary>
    private static string Replace(JsonElement element, string[] path, int depth, string value)
    {
        if (depth == path.Length)
        {
            return value;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            return "{" + string.Join(",", element.EnumerateObject().Select(p =>
                JsonSerializer.Serialize(p.Name) + ":" + (p.Name == path[depth] ? Replace(p.Value, path, depth + 1, value) : p.Value.GetRawText()))) + "}";
        }

        return "[" + string.Join(",", element.EnumerateArray().Select((item, i) =>
            $"#{i}" == path[depth] ? Replace(item, path, depth + 1, value) : item.GetRawText())) + "]";
    }

    private static string ImageRequest(string url) =>
        $$"""{"model":"fast","input":[{"role":"user","content":[{"type":"input_image","image_url":"{{url}}"}]}]}""";

    private static ResponsesRequest Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ResponsesRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly);
    }
}
