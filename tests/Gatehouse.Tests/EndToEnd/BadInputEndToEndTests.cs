using System.Text;
using System.Text.Json;
using static Gatehouse.Tests.EndToEnd.RawHttp;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// Every class of bad input, replayed against a real silo over raw sockets, on both front ends and <c>/v1/models</c>:
/// each answer has the right status, the vendor's error envelope, and no secret, and the silo prints no secret either.
/// </summary>
[Collection(BadInputCollection.Name)]
public sealed class BadInputEndToEndTests(BadInputFixture fixture)
{
    private const string Chat = "/v1/chat/completions";
    private const string Messages = "/v1/messages";
    private const string Models = "/v1/models";
    private const string Key = BadInputFixture.AppKey;
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    public enum Envelope
    {
        OpenAI,
        Anthropic,
        /// <summary>No error body to check: a success, or a HEAD answer (which has no body).</summary>
        None,
    }

    /// <param name="Status">The expected status; null when the client gave up and no answer is owed.</param>
    /// <param name="Contains">Text the error message must contain (the field it names, typically).</param>
    public sealed record Case(string Name, Envelope Envelope, int? Status, byte[][] Parts, string? Contains = null, string? Allow = null, int GapMs = 0, bool CloseAfterSend = false);

    private static readonly Case[] Table =
    [
        // Broad classes that already had an envelope.
        new("openai malformed json", Envelope.OpenAI, 400, [Post(Chat, "{\"model\":")]),
        new("anthropic malformed json", Envelope.Anthropic, 400, [Post(Messages, "{\"model\":")]),
        new("openai empty body", Envelope.OpenAI, 400, [Post(Chat, "")]),
        new("openai body not an object", Envelope.OpenAI, 400, [Post(Chat, "[1,2]")]),
        new("openai wrong type", Envelope.OpenAI, 400, [Post(Chat, """{"model":"sim","messages":{}}""")], "messages"),
        new("anthropic wrong type", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","max_tokens":"many","messages":[{"role":"user","content":"hi"}]}""")], "max_tokens"),
        new("openai number out of range", Envelope.OpenAI, 400, [Post(Chat, """{"model":"sim","messages":[{"role":"user","content":"hi"}],"temperature":5}""")], "temperature"),
        new("anthropic number out of range", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"temperature":1.5}""")], "temperature"),
        new("openai missing model", Envelope.OpenAI, 400, [Post(Chat, """{"messages":[{"role":"user","content":"hi"}]}""")], "model"),
        new("anthropic missing max_tokens", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","messages":[{"role":"user","content":"hi"}]}""")], "max_tokens"),
        new("openai deep nesting", Envelope.OpenAI, 400, [Post(Chat, Nested(200))]),
        new("anthropic deep nesting", Envelope.Anthropic, 400, [Post(Messages, Nested(200))]),
        new("openai oversized body", Envelope.OpenAI, 413, [Post(Chat, Oversized())]),
        new("anthropic oversized body", Envelope.Anthropic, 413, [Post(Messages, Oversized())]),
        new("openai unknown model", Envelope.OpenAI, 404, [Post(Chat, """{"model":"nope","messages":[{"role":"user","content":"hi"}]}""")]),
        new("openai no key", Envelope.OpenAI, 401, [Request("POST", Chat, Utf8(Hello), appKey: null)]),
        new("anthropic no key", Envelope.Anthropic, 401, [Request("POST", Messages, Utf8(HelloAnthropic), appKey: null)]),
        new("models no key", Envelope.OpenAI, 401, [Request("GET", Models)]),
        new("openai unknown key", Envelope.OpenAI, 401, [Request("POST", Chat, Utf8(Hello), appKey: "gk-not-a-key")]),
        new("anthropic admin key as app key", Envelope.Anthropic, 401, [Request("POST", Messages, Utf8(HelloAnthropic), appKey: BadInputFixture.AdminKey)]),
        new("models provider key as app key", Envelope.OpenAI, 401, [Request("GET", Models, appKey: BadInputFixture.ProviderKey)]),
        new("models basic auth", Envelope.OpenAI, 401, [Request("GET", Models, null, null, $"Authorization: Basic {Convert.ToBase64String(Encoding.ASCII.GetBytes(Key))}")]),
        new("openai slow body within bound", Envelope.None, 200, Split(Post(Chat, Hello), 3), GapMs: 300),
        new("anthropic slow body within bound", Envelope.None, 200, Split(Post(Messages, HelloAnthropic), 3), GapMs: 300),
        new("openai half a body then close", Envelope.None, null, [Truncated(Post(Chat, Hello))], CloseAfterSend: true),
        new("anthropic half a body then close", Envelope.None, null, [Truncated(Post(Messages, HelloAnthropic))], CloseAfterSend: true),

        // Strings that are not Unicode.
        new("openai invalid utf-8 in content", Envelope.OpenAI, 400, [Post(Chat, WithByte("""{"model":"sim","messages":[{"role":"user","content":"#"}]}""", 0xFF))], "messages[0].content"),
        new("openai lone surrogate in content", Envelope.OpenAI, 400, [Post(Chat, """{"model":"sim","messages":[{"role":"user","content":"\ud800"}]}""")], "messages[0].content"),
        new("openai invalid utf-8 in role", Envelope.OpenAI, 400, [Post(Chat, WithByte("""{"model":"sim","messages":[{"role":"#","content":"hi"}]}""", 0xC3))], "messages[0].role"),
        new("openai lone surrogate in property name", Envelope.OpenAI, 400, [Post(Chat, """{"model":"sim","messages":[{"role":"user","\udc00":1,"content":"hi"}]}""")], "a property name in 'messages[0]'"),
        new("anthropic invalid utf-8 in model", Envelope.Anthropic, 400, [Post(Messages, WithByte("""{"model":"#","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", 0xFE))], "model"),
        new("anthropic lone surrogate in content", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"\ud800"}]}""")], "messages.0.content"),
        new("anthropic invalid utf-8 in property name", Envelope.Anthropic, 400, [Post(Messages, WithByte("""{"model":"sim","max_tokens":5,"#":1,"messages":[{"role":"user","content":"hi"}]}""", 0xFF))], "body: a property name"),

        // Bodies Kestrel cannot read.
        new("openai chunk size overflow", Envelope.OpenAI, 400, [Chunked(Chat, "ffffffffffffffff\r\n")]),
        new("anthropic chunk size overflow", Envelope.Anthropic, 400, [Chunked(Messages, "ffffffffffffffff\r\n")]),

        // Errors the framework makes.
        new("openai PUT", Envelope.OpenAI, 405, [Request("PUT", Chat, Utf8(Hello), Key)], Allow: "POST"),
        new("openai GET", Envelope.OpenAI, 405, [Request("GET", Chat, null, Key)], Allow: "POST"),
        new("openai OPTIONS", Envelope.OpenAI, 405, [Request("OPTIONS", Chat)], Allow: "POST"),
        new("anthropic DELETE", Envelope.Anthropic, 405, [Request("DELETE", Messages, null, Key)], Allow: "POST"),
        new("anthropic OPTIONS", Envelope.Anthropic, 405, [Request("OPTIONS", Messages)], Allow: "POST"),
        new("models POST", Envelope.OpenAI, 405, [Request("POST", Models, Utf8("{}"), Key)], Allow: "GET"),
        new("models HEAD", Envelope.None, 405, [Request("HEAD", Models, null, Key)], Allow: "GET"),
        new("healthz POST", Envelope.OpenAI, 405, [Request("POST", "/healthz", Utf8("{}"))], Allow: "GET"),
        new("unknown path", Envelope.OpenAI, 404, [Request("GET", "/v1/nothing", null, Key)], "/v1/nothing"),
        new("double slash path", Envelope.OpenAI, 404, [Post("//v1/chat/completions", Hello)], "//v1/chat/completions"),
        new("root path", Envelope.OpenAI, 404, [Request("GET", "/")]),
        new("anthropic unknown sub-path", Envelope.Anthropic, 404, [Request("POST", "/v1/messages/batches", Utf8("{}"), Key)]),
        new("openai 40 KB authorization header", Envelope.OpenAI, 431, [Request("POST", Chat, Utf8(Hello), null, $"Authorization: Bearer {new string('k', 40 * 1024)}")]),
        new("anthropic 200 headers", Envelope.Anthropic, 431, [Request("POST", Messages, Utf8(HelloAnthropic), Key, ManyHeaders(200))]),
        new("models 40 KB header", Envelope.OpenAI, 431, [Request("GET", Models, null, Key, $"X-Padding: {new string('p', 40 * 1024)}")]),
        new("openai bad content-length", Envelope.OpenAI, 400, [Request("POST", Chat, Utf8(Hello), Key, "Content-Length: twelve")]),
        new("anthropic bad content-length", Envelope.Anthropic, 400, [Request("POST", Messages, Utf8(HelloAnthropic), Key, "Content-Length: -5")]),
        new("openai missing host", Envelope.OpenAI, 400, [Request("POST", Chat, Utf8(Hello), Key, "-Host")]),
        new("anthropic missing host", Envelope.Anthropic, 400, [Request("POST", Messages, Utf8(HelloAnthropic), Key, "-Host")]),
        new("models missing host", Envelope.OpenAI, 400, [Request("GET", Models, null, Key, "-Host")]),
        new("malformed request line", Envelope.OpenAI, 400, [Utf8("NOT AN HTTP REQUEST\r\n\r\n")]),

        // Image URLs.
        new("openai file image url", Envelope.OpenAI, 400, [Post(Chat, OpenAIImage("file:///etc/passwd"))], "messages[0].content[0].image_url.url"),
        new("openai http image url", Envelope.OpenAI, 400, [Post(Chat, OpenAIImage("http://169.254.169.254/latest/meta-data"))], "messages[0].content[0].image_url.url"),
        new("anthropic file image url", Envelope.Anthropic, 400, [Post(Messages, AnthropicImage("file:///etc/passwd"))], "messages.0.content.0.source.url"),
        new("anthropic gopher image url", Envelope.Anthropic, 400, [Post(Messages, AnthropicImage("gopher://127.0.0.1:6379/_FLUSHALL"))], "messages.0.content.0.source.url"),

        // Fields the gateway cannot honour or does not know.
        new("openai json schema not an object", Envelope.OpenAI, 400,
            [Post(Chat, """{"model":"sim","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":"notanobject"}}}""")],
            "response_format.json_schema.schema"),
        new("openai top_logprobs", Envelope.OpenAI, 400, [Post(Chat, """{"model":"sim","messages":[{"role":"user","content":"hi"}],"top_logprobs":3}""")], "top_logprobs"),
        new("openai unknown field", Envelope.OpenAI, 400, [Post(Chat, """{"model":"sim","messages":[{"role":"user","content":"hi"}],"temprature":0}""")], "Unrecognized request argument supplied: temprature"),
        new("anthropic mcp_servers", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"mcp_servers":[]}""")], "mcp_servers: Extra inputs are not permitted"),
        new("anthropic container", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"container":"c"}""")], "container: Extra inputs are not permitted"),
        new("anthropic unknown nested field", Envelope.Anthropic, 400, [Post(Messages, """{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"hi","name":"x"}]}""")], "messages.0.name: Extra inputs are not permitted"),
    ];

    public static TheoryData<string> CaseNames => [.. Table.Select(c => c.Name)];

    private const string Hello = """{"model":"sim","messages":[{"role":"user","content":"hello"}]}""";
    private const string HelloAnthropic = """{"model":"sim","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}""";

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Send_Input_AnswersWithStatusAndVendorEnvelopeAndNoSecret(string name)
    {
        var row = Table.Single(c => c.Name == name);
        using var timeout = new CancellationTokenSource(CaseTimeout);

        var response = await SendAsync(fixture.Port, row.Parts, TimeSpan.FromMilliseconds(row.GapMs), row.CloseAfterSend, timeout.Token);

        var context = $"case '{name}': {response?.Raw ?? "(no answer)"}";
        if (row.Status is null)
        {
            Assert.True(response is null || response.Status == 400, context);
            await AssertStillServingAsync(timeout.Token);
        }
        else
        {
            Assert.True(response is not null, context);
            Assert.True(row.Status == response.Status, context);
            if (row.Allow is not null)
            {
                Assert.True(response.Headers.TryGetValue("allow", out var allow) && allow == row.Allow, context);
            }

            AssertBody(row, response, context);
            foreach (var secret in BadInputFixture.Secrets)
            {
                Assert.DoesNotContain(secret, response.Raw);
            }
        }

        var output = fixture.Silo.Output;
        foreach (var secret in BadInputFixture.Secrets)
        {
            Assert.DoesNotContain(secret, output);
        }

        Assert.DoesNotContain("Request failed unexpectedly", output);
    }

    private static void AssertBody(Case row, RawHttpResponse response, string context)
    {
        if (row.Envelope == Envelope.None)
        {
            if (response.Status == 200)
            {
                using var answer = JsonDocument.Parse(response.Body);
                Assert.False(answer.RootElement.TryGetProperty("error", out _), context);
            }

            return;
        }

        Assert.True(response.Headers.TryGetValue("content-type", out var type) && type.StartsWith("application/json", StringComparison.Ordinal), context);
        using var document = JsonDocument.Parse(response.Body);
        var root = document.RootElement;
        string message;
        if (row.Envelope == Envelope.OpenAI)
        {
            Assert.Equal(["error"], root.EnumerateObject().Select(p => p.Name));
            var error = root.GetProperty("error");
            Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            Assert.True(error.GetProperty("param").ValueKind is JsonValueKind.String or JsonValueKind.Null, context);
            Assert.True(error.GetProperty("code").ValueKind is JsonValueKind.String or JsonValueKind.Null, context);
            message = error.GetProperty("message").GetString()!;
        }
        else
        {
            Assert.Equal(["type", "error"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal("error", root.GetProperty("type").GetString());
            var error = root.GetProperty("error");
            Assert.Equal(["type", "message"], error.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            message = error.GetProperty("message").GetString()!;
        }

        Assert.False(string.IsNullOrWhiteSpace(message), context);
        if (row.Contains is not null)
        {
            Assert.Contains(row.Contains, message);
        }
    }

    /// <summary>A client that went away must not have hurt the silo: the next request is answered as usual.</summary>
    private async Task AssertStillServingAsync(CancellationToken cancellationToken)
    {
        var next = await SendAsync(fixture.Port, [Request("GET", Models, null, Key)], TimeSpan.Zero, closeAfterSend: false, cancellationToken);
        Assert.Equal(200, next?.Status);
    }

    private static byte[] Post(string path, string body) => Request("POST", path, Utf8(body), Key);

    private static byte[] Post(string path, byte[] body) => Request("POST", path, body, Key);

    private static byte[] Chunked(string path, string chunks) =>
        [.. Request("POST", path, null, Key, "Content-Type: application/json", "Transfer-Encoding: chunked"), .. Utf8(chunks)];

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The JSON with its one <c>#</c> replaced by a byte that is not valid UTF-8 on its own.</summary>
    private static byte[] WithByte(string json, byte raw)
    {
        var at = json.IndexOf('#', StringComparison.Ordinal);
        return [.. Utf8(json[..at]), raw, .. Utf8(json[(at + 1)..])];
    }

    private static string Nested(int depth) =>
        $$$"""{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":{{{new string('[', depth)}}}{{{new string(']', depth)}}}}""";

    private static string Oversized() =>
        $$"""{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"{{new string('x', BadInputFixture.MaxBodyBytes + 1)}}"}]}""";

    private static string OpenAIImage(string url) =>
        $$$"""{"model":"sim","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]}""";

    private static string AnthropicImage(string url) =>
        $$$"""{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"{{{url}}}"}}]}]}""";

    private static string[] ManyHeaders(int count) => [.. Enumerable.Range(0, count).Select(i => $"X-Extra-{i}: {i}")];

    /// <summary>The request cut into <paramref name="count"/> pieces, the head in the first.</summary>
    private static byte[][] Split(byte[] request, int count)
    {
        var size = (request.Length + count - 1) / count;
        return [.. request.Chunk(size)];
    }

    /// <summary>The head and half the body it announces.</summary>
    private static byte[] Truncated(byte[] request) => request[..(request.Length - 20)];
}
