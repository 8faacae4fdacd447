using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd.Observability;

/// <summary>One silo and one upstream double for every test of <see cref="RequestIdEndToEndTests"/>: each test uses its own ids.</summary>
public sealed class RequestIdFixture : IAsyncLifetime
{
    public const string Key = "gk-FAKE-request-id-key";

    /// <summary>Set once the caller has read the first events of alias <c>cut</c>'s stream; the upstream breaks after that.</summary>
    public TaskCompletionSource ClientReadFirstEvents { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OpenAIUpstreamDouble Upstream { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await OpenAIUpstreamDouble.StartAsync();
        Upstream.Behavior = request => request.Model switch
        {
            "fails" => UpstreamReply.ServerError(),
            "cut" => new UpstreamReply { Text = "a long answer that the upstream cuts short", AbortAfterEvents = 3, AbortWhen = ClientReadFirstEvents.Task },
            _ => null,
        };
        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["Providers"] = new JsonObject
                {
                    ["openai"] = new JsonObject { ["Kind"] = "OpenAI", ["BaseUrl"] = Upstream.BaseUrl, ["ApiKey"] = "sk-FAKE-request-id-provider" },
                    ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["LatencyMs"] = 0 },
                },
                ["Models"] = new JsonObject
                {
                    ["chain"] = new JsonObject
                    {
                        ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "openai", ["Model"] = "fails" }),
                        ["Fallbacks"] = new JsonArray("sim"),
                    },
                    ["cut"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "openai", ["Model"] = "cut" }) },
                    ["sim"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-1" }) },
                },
                ["Apps"] = new JsonObject { ["main"] = new JsonObject { ["Keys"] = new JsonArray(Key) } },
            },
        };
        Silo = await SiloProcess.StartAsync(config.ToJsonString());
        Http = new HttpClient { BaseAddress = new Uri(Silo.BaseUrl) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Silo.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// The id a response carries in <c>x-request-id</c> (Anthropic: <c>request-id</c>) names the log lines written for that
/// request in the grains — the router's and the adapter's, which run in grain calls that do not carry the HTTP
/// request's logging scope — on a silo with the shipped console settings.
/// Alias <c>chain</c>'s target answers 500 and falls back to <c>sim</c>; alias <c>cut</c> streams and breaks after its
/// first events.
/// </summary>
public sealed partial class RequestIdEndToEndTests(RequestIdFixture fixture) : IClassFixture<RequestIdFixture>
{
    private static readonly TimeSpan LogWait = TimeSpan.FromSeconds(10);

    private SiloProcess Silo => fixture.Silo;

    [Fact]
    public async Task CallerSentAnId_ResponseEchoesIt_AndTheFailedAttemptsLinesNameIt()
    {
        using var response = await ChatAsync("/v1/chat/completions", "chain", requestId: "e2e-req-0001");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("e2e-req-0001", Header(response, "x-request-id"));
        var upstreamLine = await Silo.WaitForLineAsync(l => l.Contains("RequestId:e2e-req-0001"), LogWait);
        Assert.Contains("Provider openai failed with HTTP 500", upstreamLine);
        var routerLine = await Silo.WaitForLineAsync(l => l.Contains("target openai/fails failed") && l.Contains("RequestId:e2e-req-0001"), LogWait);
        Assert.StartsWith("20", routerLine);
    }

    [Fact]
    public async Task CallerSentNoId_ResponseCarriesANewOne_AndTheLinesNameIt()
    {
        using var first = await ChatAsync("/v1/chat/completions", "chain", requestId: null);
        using var second = await ChatAsync("/v1/chat/completions", "chain", requestId: null);

        var firstId = Header(first, "x-request-id");
        var secondId = Header(second, "x-request-id");
        Assert.Matches(NewId(), firstId);
        Assert.Matches(NewId(), secondId);
        Assert.NotEqual(firstId, secondId);
        foreach (var id in new[] { firstId, secondId })
        {
            await Silo.WaitForLineAsync(l => l.Contains("Provider openai failed with HTTP 500") && l.Contains($"RequestId:{id}"), LogWait);
        }
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("tab\there")]
    [InlineData("semi;colon")]
    public async Task CallerIdThatCouldForgeALogLine_IsReplacedByANewOne(string callerId)
    {
        using var response = await ChatAsync("/v1/chat/completions", "sim", requestId: callerId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches(NewId(), Header(response, "x-request-id"));
    }

    [Fact]
    public async Task CallerIdLongerThanTheLimit_IsReplaced()
    {
        using var response = await ChatAsync("/v1/chat/completions", "sim", requestId: new string('a', 129));

        Assert.Matches(NewId(), Header(response, "x-request-id"));
    }

    [Fact]
    public async Task AnthropicFrontEnd_NamesTheRequestInRequestId()
    {
        using var response = await ChatAsync("/v1/messages", "chain", requestId: "e2e-req-anthropic");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("e2e-req-anthropic", Header(response, "request-id"));
        var line = await Silo.WaitForLineAsync(l => l.Contains("Provider openai failed with HTTP 500") && l.Contains("RequestId:e2e-req-anthropic"), LogWait);
        Assert.Contains("warn:", line);
    }

    [Fact]
    public async Task ErrorAnswer_CarriesTheIdToo()
    {
        using var response = await ChatAsync("/v1/chat/completions", "no-such-alias", requestId: "e2e-req-404");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("e2e-req-404", Header(response, "x-request-id"));
    }

    [Fact]
    public async Task StreamBrokenAfterItsFirstChunk_TheBreaksLineNamesTheRequest()
    {
        using var request = Request("/v1/chat/completions", "cut", "e2e-req-stream", stream: true);
        using var response = await fixture.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("e2e-req-stream", Header(response, "x-request-id"));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line);
                // The first chunk reached the caller: the stream is committed, and the upstream may now break.
                fixture.ClientReadFirstEvents.TrySetResult();
            }
        }

        Assert.Contains(events, e => e.Contains("\"error\""));
        var broken = await Silo.WaitForLineAsync(l => l.Contains("RequestId:e2e-req-stream"), LogWait);
        Assert.Contains("The connection to provider openai broke during the answer", broken);
    }

    private async Task<HttpResponseMessage> ChatAsync(string path, string model, string? requestId)
    {
        using var request = Request(path, model, requestId, stream: false);
        var response = await fixture.Http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static HttpRequestMessage Request(string path, string model, string? requestId, bool stream)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = 64,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }),
        };
        if (stream)
        {
            body["stream"] = true;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RequestIdFixture.Key);
        if (requestId is not null)
        {
            request.Headers.TryAddWithoutValidation("x-request-id", requestId);
        }

        return request;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.GetValues(name));

    [GeneratedRegex("^req_[0-9a-f]{32}$")]
    private static partial Regex NewId();
}
