using System.Net;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests.EndToEnd.Responses;

/// <summary>Malformed and unservable bodies on <c>POST /v1/responses</c>: a 4xx in OpenAI's envelope naming the field, never a 500.</summary>
[Collection(ResponsesCollection.Name)]
public sealed class ResponsesBadInputEndToEndTests(ResponsesFixture fixture)
{
    public static TheoryData<string, string?> Bodies => new()
    {
        { "not json", null },
        { "[]", null },
        { "{}", "model" },
        { """{"model":5,"input":"x"}""", "model" },
        { """{"model":"gpt"}""", "input" },
        { """{"model":"gpt","input":5}""", "input" },
        { """{"model":"gpt","input":[]}""", "input" },
        { """{"model":"gpt","input":[5]}""", "input[0]" },
        { """{"model":"gpt","input":[{"type":"telepathy"}]}""", "input[0].type" },
        { """{"model":"gpt","input":[{"type":"reasoning","summary":[]}]}""", "input[0].type" },
        { """{"model":"gpt","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0].type" },
        { """{"model":"gpt","input":[{"role":"wizard","content":"x"}]}""", "input[0].role" },
        { """{"model":"gpt","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}""", "input[0].content[0].type" },
        { """{"model":"gpt","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}""", "input[0].content[0].file_id" },
        { """{"model":"gpt","input":[{"type":"function_call_output","output":"x"}]}""", "input[0].call_id" },
        { """{"model":"gpt","input":"x","tools":[{"type":"web_search"}]}""", "tools[0].type" },
        { """{"model":"gpt","input":"x","tools":[{"type":"function"}]}""", "tools[0].name" },
        { """{"model":"gpt","input":"x","tools":{}}""", "tools" },
        { """{"model":"gpt","input":"x","background":true}""", "background" },
        { """{"model":"gpt","input":"x","reasoning":{"effort":"high"}}""", "reasoning" },
        { """{"model":"gpt","input":"x","conversation":"conv_1"}""", "conversation" },
        { """{"model":"gpt","input":"x","max_output_tokens":0}""", "max_output_tokens" },
        { """{"model":"gpt","input":"x","temperature":"hot"}""", "temperature" },
        { """{"model":"gpt","input":"x","text":{"format":{"type":"yaml"}}}""", "text.format.type" },
        { """{"model":"gpt","input":"x","metadata":{"k":5}}""", "metadata.k" },
        { """{"model":"gpt","input":"x","previous_response_id":"resp_nope"}""", "previous_response_id" },
        { """{"model":"gpt","input":"x","frobnicate":true}""", "frobnicate" },
        { """{"model":"gpt","input":"x","stream":"yes"}""", "stream" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task BadBody_Is400InOpenAIsEnvelope_NamingTheField(string body, string? param)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", ResponsesFixture.AppKey);
        using var response = await fixture.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        if (param is not null)
        {
            Assert.True(param == error.GetProperty("param").GetString(), $"{body}: param {error.GetProperty("param")} ({text})");
        }
    }

    [Theory]
    [InlineData("GET", "/v1/responses/resp_0123456789abcdef0123456789abcdef")]
    [InlineData("GET", "/v1/responses/not-an-id")]
    [InlineData("GET", "/v1/responses/resp_0123456789abcdef0123456789abcdef/input_items")]
    [InlineData("DELETE", "/v1/responses/resp_0123456789abcdef0123456789abcdef")]
    public async Task UnknownResponse_Is404(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new("Bearer", ResponsesFixture.AppKey);
        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task StoredResponses_WithoutAKey_Are401()
    {
        using var response = await fixture.Http.GetAsync("/v1/responses/resp_0123456789abcdef0123456789abcdef");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
