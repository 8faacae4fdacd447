using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.OpenAI;
using Xunit;

namespace Gatehouse.Tests.Http.OpenAI;

public sealed class OpenAIRequestReaderTests
{
    private const string Parameters = """{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}""";
    private const string Schema = """{"type":"object","properties":{"answer":{"type":"string"}}}""";

    [Fact]
    public void Read_RichRequest_MapsEveryField()
    {
        var json = $$$"""
            {
              "model": "gpt",
              "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Answer "}, {"type": "text", "text": "in JSON."}]},
                {"role": "user", "name": "ann", "content": [
                  {"type": "text", "text": "What is this?"},
                  {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                  {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"cat\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "a cat"}
              ],
              "temperature": 0.5,
              "top_p": 0.9,
              "presence_penalty": -1,
              "frequency_penalty": 1.5,
              "max_completion_tokens": 256,
              "stop": ["END", "STOP"],
              "seed": 42,
              "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": {{{Schema}}}}},
              "tools": [{"type": "function", "function": {"name": "lookup", "description": "Looks things up.", "parameters": {{{Parameters}}}, "strict": true}}],
              "tool_choice": {"type": "function", "function": {"name": "lookup"}},
              "parallel_tool_calls": false,
              "stream": true,
              "stream_options": {"include_usage": true},
              "user": "user-7",
              "n": 1,
              "logprobs": false
            }
            """;

        var (request, stream) = Read(json);

        Assert.True(stream);
        Assert.Equal("gpt", request.Model);
        Assert.Equal(0.5, request.Temperature);
        Assert.Equal(0.9, request.TopP);
        Assert.Equal(-1.0, request.PresencePenalty);
        Assert.Equal(1.5, request.FrequencyPenalty);
        Assert.Equal(256, request.MaxTokens);
        Assert.Equal<string>(["END", "STOP"], request.Stop);
        Assert.Equal(42L, request.Seed);
        Assert.Equal("user-7", request.User);
        Assert.True(request.IncludeUsage);
        Assert.False(request.ParallelToolCalls);

        Assert.Equal(5, request.Messages.Length);
        var system = request.Messages[0];
        Assert.Equal(ChatRole.System, system.Role);
        Assert.Equal("Be brief.", system.Text);

        var developer = request.Messages[1];
        Assert.Equal(ChatRole.System, developer.Role);
        Assert.Equal("Answer in JSON.", developer.Text);

        var user = request.Messages[2];
        Assert.Equal(ChatRole.User, user.Role);
        Assert.Equal("ann", user.Name);
        Assert.Equal<ContentPart>(
        [
            new ContentPart { Kind = ContentPartKind.Text, Text = "What is this?" },
            new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "https://example.com/cat.png", ImageDetail = "high" },
            new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = "data:image/png;base64,AAAA" },
        ], user.Content);

        var assistant = request.Messages[3];
        Assert.Equal(ChatRole.Assistant, assistant.Role);
        Assert.Empty(assistant.Content);
        Assert.Equal<ToolCall>([new ToolCall { Id = "call_1", Name = "lookup", ArgumentsJson = """{"q":"cat"}""" }], assistant.ToolCalls);

        var tool = request.Messages[4];
        Assert.Equal(ChatRole.Tool, tool.Role);
        Assert.Equal("call_1", tool.ToolCallId);
        Assert.Equal("a cat", tool.Text);

        var definition = Assert.Single(request.Tools);
        Assert.Equal(new ToolDefinition { Name = "lookup", Description = "Looks things up.", ParametersJson = Parameters, Strict = true }, definition);
        Assert.Equal(new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "lookup" }, request.ToolChoice);
        Assert.Equal(
            new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = Schema, Strict = true },
            request.ResponseFormat);
    }

    [Fact]
    public void Read_MinimalRequest_LeavesOptionalFieldsUnset()
    {
        var (request, stream) = Read("""{"model":"gpt","messages":[{"role":"user","content":"hi"}]}""");

        Assert.False(stream);
        var message = Assert.Single(request.Messages);
        Assert.Equal(ChatRole.User, message.Role);
        Assert.Equal<ContentPart>([ContentPart.FromText("hi")], message.Content);
        Assert.Empty(message.ToolCalls);
        Assert.Null(message.ToolCallId);
        Assert.Null(message.Name);
        Assert.Null(request.Temperature);
        Assert.Null(request.MaxTokens);
        Assert.Empty(request.Stop);
        Assert.Null(request.Seed);
        Assert.Empty(request.Tools);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.ResponseFormat);
        Assert.Null(request.User);
        Assert.False(request.IncludeUsage);
    }

    [Fact]
    public void Read_StopString_ReadsOneSequence()
    {
        var (request, _) = Read("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stop":"END"}""");

        Assert.Equal<string>(["END"], request.Stop);
    }

    [Fact]
    public void Read_MaxTokens_ReadsLegacyName()
    {
        var (request, _) = Read("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":12}""");

        Assert.Equal(12, request.MaxTokens);
    }

    [Theory]
    [InlineData("auto", ToolChoiceMode.Auto)]
    [InlineData("none", ToolChoiceMode.None)]
    [InlineData("required", ToolChoiceMode.Required)]
    public void Read_ToolChoiceString_MapsMode(string value, ToolChoiceMode mode)
    {
        var (request, _) = Read($$$"""
            {"model":"gpt","messages":[{"role":"user","content":"hi"}],
             "tools":[{"type":"function","function":{"name":"lookup"}}],"tool_choice":"{{{value}}}"}
            """);

        Assert.Equal(new ToolChoice { Mode = mode }, request.ToolChoice);
        Assert.Equal(new ToolDefinition { Name = "lookup" }, Assert.Single(request.Tools));
    }

    [Theory]
    [InlineData("""{"type":"text"}""", ResponseFormatKind.Text)]
    [InlineData("""{"type":"json_object"}""", ResponseFormatKind.JsonObject)]
    public void Read_SimpleResponseFormat_MapsKind(string format, ResponseFormatKind kind)
    {
        var (request, _) = Read($$"""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{{format}}}""");

        Assert.Equal(new ResponseFormat { Kind = kind }, request.ResponseFormat);
    }

    [Fact]
    public void Read_StreamWithoutStreamOptions_DoesNotIncludeUsage()
    {
        var (request, stream) = Read("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true}""");

        Assert.True(stream);
        Assert.False(request.IncludeUsage);
    }

    [Theory]
    [InlineData("""[1,2]""", null)]
    [InlineData("\"text\"", null)]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"  ","messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":5,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"gpt"}""", "messages")]
    [InlineData("""{"model":"gpt","messages":[]}""", "messages")]
    [InlineData("""{"model":"gpt","messages":"hi"}""", "messages")]
    [InlineData("""{"model":"gpt","messages":["hi"]}""", "messages[0]")]
    [InlineData("""{"model":"gpt","messages":[{"content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"gpt","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user"}]}""", "messages[0].content")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":42}]}""", "messages[0].content")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"audio","audio":{}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"not a url"}}]}]}""", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":42}]}]}""", "messages[0].content[0].image_url")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":[]}]}]}""", "messages[0].content[0].image_url")]
    [InlineData("""{"model":"gpt","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}""", "messages[0].content[0]")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi","tool_calls":[]}]}""", "messages[0].tool_calls")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"},{"role":"tool","content":"42"}]}""", "messages[1].tool_call_id")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":"warm"}""", "temperature")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":2.5}""", "temperature")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":-0.1}""", "temperature")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"top_p":1.5}""", "top_p")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":1.5}""", "max_completion_tokens")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"n":2}""", "n")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"seed":"42"}""", "seed")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":false,"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":"usage"}""", "stream_options")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":"yes"}}""", "stream_options.include_usage")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tools":{}}""", "tools")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}]}""", "tools[0].function.parameters")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tool_choice":"sometimes"}""", "tool_choice")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"function","function":{"name":"ghost"}}}""", "tool_choice")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}""", "response_format.type")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"logprobs":true}""", "logprobs")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"functions":[]}""", "functions")]
    public void Read_InvalidInput_ThrowsInvalidRequestNamingParam(string json, string? param)
    {
        var exception = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, exception.Error);
        Assert.Equal(param, exception.Param);
    }

    [Fact]
    public void Read_FieldsThatCannotChangeTheAnswer_AreAccepted()
    {
        var (request, _) = Read("""
            {"model":"gpt","messages":[{"role":"user","content":"hi"}],"store":true,"metadata":{"team":"a"},"service_tier":"auto",
             "prompt_cache_key":"k","safety_identifier":"s","prediction":{"type":"content","content":"x"},"modalities":["text"],"logprobs":false,"top_logprobs":null,
             "stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}
            """);

        Assert.Equal("gpt", request.Model);
        Assert.True(request.IncludeUsage);
    }

    [Theory]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"foo":1}""", "foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi","foo":1}]}""", "messages[0].foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"text","text":"hi","foo":1}]}]}""", "messages[0].content[0].foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://a.example/x.png","size":2}}]}]}""", "messages[0].content[0].image_url.size")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"},"foo":1}]}""", "tools[0].foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","foo":1}}]}""", "tools[0].function.foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","foo":1}}}""", "response_format.json_schema.foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object","foo":1}}""", "response_format.foo")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"foo":true}}""", "stream_options.foo")]
    public void Read_UnknownField_Is400InOpenAIWords(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(param, error.Param);
        Assert.Equal($"Unrecognized request argument supplied: {param}", error.Message);
    }

    [Theory]
    [InlineData("top_logprobs", "2")]
    [InlineData("logit_bias", """{"50256":-100}""")]
    [InlineData("audio", """{"voice":"alloy","format":"mp3"}""")]
    [InlineData("modalities", """["text","audio"]""")]
    [InlineData("reasoning_effort", "\"high\"")]
    [InlineData("verbosity", "\"low\"")]
    [InlineData("web_search_options", "{}")]
    public void Read_FieldThatChangesTheAnswerButCannotBeCarried_Is400NamingIt(string field, string value)
    {
        var error = Assert.Throws<GatewayException>(() => Read($$"""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"{{field}}":{{value}}}"""));

        Assert.Equal(field, error.Param);
        Assert.Equal($"Gatehouse does not support '{field}'.", error.Message);
    }

    [Theory]
    [InlineData("\"notanobject\"")]
    [InlineData("[]")]
    [InlineData("42")]
    public void Read_JsonSchemaThatIsNotAnObject_Is400(string schema)
    {
        var error = Assert.Throws<GatewayException>(() =>
            Read($$$$"""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{{{{schema}}}}}}}"""));

        Assert.Equal("response_format.json_schema.schema", error.Param);
    }

    [Theory]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","description":"d"}}}""", "response_format.json_schema.description")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"refusal":"no"}]}""", "messages[1].refusal")]
    public void Read_NestedFieldThatCannotBeCarried_Is400NamingIt(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(param, error.Param);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://127.0.0.1:6379/_FLUSHALL")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("data:text/plain;base64,aGk=")]
    public void Read_ImageUrlOtherThanHttpsOrImageData_Is400NamingIt(string url)
    {
        var error = Assert.Throws<GatewayException>(() => Read(ImageRequest(url)));

        Assert.Equal("messages[0].content[0].image_url.url", error.Param);
        Assert.Equal("Invalid 'messages[0].content[0].image_url.url': it must be an https: URL or a base64 data: URI.", error.Message);
    }

    [Fact]
    public void Read_HttpImageUrl_AcceptedWhenTheOperatorAllowsIt()
    {
        using var document = JsonDocument.Parse(ImageRequest("http://models.lan/cat.png"));

        var (request, _) = OpenAIRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpAllowed);

        Assert.Equal("http://models.lan/cat.png", request.Messages[0].Content[0].ImageUrl);
    }

    [Theory]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":"\ud800"}]}""", "messages[0].content")]
    [InlineData("""{"model":"g\udfffpt","messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"gpt","messages":[{"role":"\ud800","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"gpt","messages":[{"role":"user","content":[{"type":"text","text":"a\ud83d"}]}]}""", "messages[0].content[0].text")]
    public void Read_LoneSurrogate_Is400NamingWhere(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.StartsWith($"Invalid '{param}': the string is not valid UTF-8 text", error.Message);
    }

    [Fact]
    public void Read_InvalidUtf8Bytes_Is400NamingWhere()
    {
        byte[] body = [.. "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\""u8, 0xFF, .. "\"}]}"u8];
        using var document = JsonDocument.Parse(body);

        var error = Assert.Throws<GatewayException>(() => OpenAIRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly));

        Assert.Equal("messages[0].content", error.Param);
    }

    [Fact]
    public void Read_LoneSurrogateInTopLevelPropertyName_Is400()
    {
        var error = Assert.Throws<GatewayException>(() => Read("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"\ud800":1}"""));

        Assert.Null(error.Param);
        Assert.StartsWith("Invalid request: a property name at the top level of the body is not valid UTF-8 text", error.Message);
    }

    private static string ImageRequest(string url) =>
        $$$"""{"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]}""";

    [Fact]
    public void Read_WrongType_SaysExpectedAndActualType()
    {
        var exception = Assert.Throws<GatewayException>(() => Read("""{"model":"gpt","messages":{}}"""));

        Assert.Equal("Invalid type for 'messages': expected an array, but got an object instead.", exception.Message);
    }

    private static (ChatRequest Request, bool Stream) Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return OpenAIRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly);
    }
}
