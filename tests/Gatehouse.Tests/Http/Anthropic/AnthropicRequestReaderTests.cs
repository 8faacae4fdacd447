using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Anthropic;

namespace Gatehouse.Tests.Http.Anthropic;

public sealed class AnthropicRequestReaderTests
{
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    [Fact]
    public void Read_RichRequest_MapsEveryField()
    {
        var json = $$$"""
            {
              "model": "claude",
              "max_tokens": 256,
              "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Answer in French."}],
              "messages": [
                {"role": "user", "content": [
                  {"type": "text", "text": "What is this?"},
                  {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                  {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
                ]},
                {"role": "assistant", "content": [
                  {"type": "text", "text": "Checking."},
                  {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                  {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Lyon"}}
                ]},
                {"role": "user", "content": [
                  {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                  {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "rai"}, {"type": "text", "text": "ny"}]},
                  {"type": "text", "text": "And tomorrow?"}
                ]}
              ],
              "temperature": 0.5,
              "top_p": 0.9,
              "stop_sequences": ["END"],
              "tools": [{"name": "weather", "description": "Weather by city", "input_schema": {{{Schema}}}}],
              "tool_choice": {"type": "tool", "name": "weather", "disable_parallel_tool_use": true},
              "metadata": {"user_id": "u-1"},
              "stream": true
            }
            """;

        var (request, stream) = Read(json);

        Assert.True(stream);
        Assert.True(request.IncludeUsage);
        Assert.Equal("claude", request.Model);
        Assert.Equal(256, request.MaxTokens);
        Assert.Equal(0.5, request.Temperature);
        Assert.Equal(0.9, request.TopP);
        Assert.Equal(["END"], request.Stop.ToArray());
        Assert.Equal("u-1", request.User);
        Assert.False(request.ParallelToolCalls);
        Assert.Equal(new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = "weather" }, request.ToolChoice);
        var tool = Assert.Single(request.Tools);
        Assert.Equal("weather", tool.Name);
        Assert.Equal("Weather by city", tool.Description);
        Assert.Equal(Schema, tool.ParametersJson);

        var messages = request.Messages;
        Assert.Equal(6, messages.Length);
        Assert.Equal(ChatRole.System, messages[0].Role);
        Assert.Equal("Be brief.\n\nAnswer in French.", messages[0].Text);
        Assert.Equal(ChatRole.User, messages[1].Role);
        Assert.Equal("What is this?", messages[1].Content[0].Text);
        Assert.Equal("data:image/png;base64,AAAA", messages[1].Content[1].ImageUrl);
        Assert.Equal("https://example.com/cat.png", messages[1].Content[2].ImageUrl);
        Assert.Equal(ChatRole.Assistant, messages[2].Role);
        Assert.Equal("Checking.", messages[2].Text);
        Assert.Equal(
            [new ToolCall { Id = "toolu_1", Name = "weather", ArgumentsJson = """{"city": "Paris"}""" }, new ToolCall { Id = "toolu_2", Name = "weather", ArgumentsJson = """{"city": "Lyon"}""" }],
            messages[2].ToolCalls.ToArray());
        Assert.Equal((ChatRole.Tool, "toolu_1", "sunny"), (messages[3].Role, messages[3].ToolCallId, messages[3].Text));
        Assert.Equal((ChatRole.Tool, "toolu_2", "rainy"), (messages[4].Role, messages[4].ToolCallId, messages[4].Text));
        Assert.Equal((ChatRole.User, "And tomorrow?"), (messages[5].Role, messages[5].Text));
    }

    [Fact]
    public void Read_MinimalRequest_StringContentAndNoStream()
    {
        var (request, stream) = Read("""{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.False(stream);
        Assert.False(request.IncludeUsage);
        Assert.Equal(ChatMessage.FromText(ChatRole.User, "hi").Text, Assert.Single(request.Messages).Text);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.ParallelToolCalls);
    }

    [Theory]
    [InlineData("auto", ToolChoiceMode.Auto)]
    [InlineData("any", ToolChoiceMode.Required)]
    [InlineData("none", ToolChoiceMode.None)]
    public void Read_ToolChoice_MapsMode(string type, ToolChoiceMode expected)
    {
        var (request, _) = Read($$$"""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":{"type":"object"}}],"tool_choice":{"type":"{{{type}}}"}}""");

        Assert.Equal(expected, request.ToolChoice!.Mode);
    }

    [Theory]
    [InlineData("""{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1}""", "messages")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]}""", "messages")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}""", "messages.0.role")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}""", "messages.0.content")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":42}]}""", "messages.0.content")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"x"}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}""", "messages.0.content.0.source.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"temperature":1.5}""", "temperature")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"top_k":5}""", "top_k")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":1024}}""", "thinking")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}""", "tools.0.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t"}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"sometimes"}}""", "tool_choice.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":{}}],"tool_choice":{"type":"tool","name":"other"}}""", "tool_choice.name")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"system":[{"type":"image"}]}""", "system.0.type")]
    public void Read_InvalidField_Is400NamingIt(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.Contains(param, error.Message);
    }

    [Fact]
    public void Read_FieldsThatCannotChangeTheAnswer_AreAccepted()
    {
        var (request, _) = Read("""
            {"model":"m","max_tokens":1,"service_tier":"auto","thinking":{"type":"disabled"},"metadata":{"user_id":"u1"},
             "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":{"type":"ephemeral"},"citations":[]}]}],
             "tools":[{"name":"t","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}]}
            """);

        Assert.Equal("m", request.Model);
        Assert.Equal("u1", request.User);
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"mcp_servers":[]}""", "mcp_servers")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"container":"c1"}""", "container")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"context_management":{}}""", "context_management")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"metadata":{"user_id":"u","tenant":"t"}}""", "metadata.tenant")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x","name":"ann"}]}""", "messages.0.name")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"x","extra":1}]}]}""", "messages.0.content.0.extra")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":{},"strict":true}]}""", "tools.0.strict")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"auto","reason":"x"}}""", "tool_choice.reason")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://a.example/x.png","detail":"high"}}]}]}""", "messages.0.content.0.source.detail")]
    public void Read_UnknownField_Is400InAnthropicWords(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(param, error.Param);
        Assert.Equal($"{param}: Extra inputs are not permitted", error.Message);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://127.0.0.1:6379/_FLUSHALL")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    public void Read_ImageUrlOtherThanHttps_Is400NamingIt(string url)
    {
        var error = Assert.Throws<GatewayException>(() => Read(ImageRequest("url", $"\"url\":\"{url}\"")));

        Assert.Equal("messages.0.content.0.source.url", error.Param);
        Assert.Equal("messages.0.content.0.source.url: the image must be an https: URL or a base64 data: URI", error.Message);
    }

    [Fact]
    public void Read_Base64ImageThatIsNotBase64_Is400NamingData()
    {
        var error = Assert.Throws<GatewayException>(() => Read(ImageRequest("base64", "\"media_type\":\"image/png\",\"data\":\"not base64!\"")));

        Assert.Equal("messages.0.content.0.source.data", error.Param);
    }

    [Fact]
    public void Read_HttpImageUrl_AcceptedWhenTheOperatorAllowsIt()
    {
        using var document = JsonDocument.Parse(ImageRequest("url", "\"url\":\"http://models.lan/cat.png\""));

        var (request, _) = AnthropicRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpAllowed);

        Assert.Equal("http://models.lan/cat.png", request.Messages[0].Content[0].ImageUrl);
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"\ud800"}]}""", "messages.0.content")]
    [InlineData("""{"model":"\udc00","max_tokens":1,"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"us\ud800er","content":"x"}]}""", "messages.0.role")]
    public void Read_LoneSurrogate_Is400NamingWhere(string json, string param)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.StartsWith($"{param}: Input should be valid UTF-8 text", error.Message);
    }

    [Fact]
    public void Read_InvalidUtf8InPropertyName_Is400NamingTheObject()
    {
        byte[] body = [.. "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\""u8, 0xFF, .. "\":1,\"content\":\"x\"}]}"u8];
        using var document = JsonDocument.Parse(body);

        var error = Assert.Throws<GatewayException>(() => AnthropicRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly));

        Assert.Equal("messages.0", error.Param);
        Assert.StartsWith("messages.0: a property name is not valid UTF-8 text", error.Message);
    }

    private static string ImageRequest(string sourceType, string sourceFields) =>
        $$$"""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"{{{sourceType}}}",{{{sourceFields}}}}}]}]}""";

    private static (ChatRequest Request, bool Stream) Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return AnthropicRequestReader.Read(document.RootElement, ImageUrlPolicy.HttpsOnly);
    }
}
