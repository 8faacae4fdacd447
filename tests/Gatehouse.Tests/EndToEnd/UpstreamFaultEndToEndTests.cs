using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;
using Gatehouse.Tests.Providers;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// Broken upstream answers and upstream errors that quote credentials, through the real silo process and both front
/// ends, at temperature 0 with the cache on: never a success, never cached, fallback where the failure comes before
/// the first chunk, and no provider key in any response or log line.
/// </summary>
[Collection(UpstreamFaultCollection.Name)]
public sealed class UpstreamFaultEndToEndTests(UpstreamFaultFixture fixture) : IDisposable
{
    public enum FrontEnd
    {
        OpenAI,
        Anthropic,
    }

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => _http.Dispose();

    public static TheoryData<string, UpstreamFault, bool> Faults()
    {
        var cases = new TheoryData<string, UpstreamFault, bool>();
        foreach (var provider in UpstreamFaultFixture.Providers)
        {
            foreach (var fault in Enum.GetValues<UpstreamFault>())
            {
                foreach (var stream in new[] { true, false }.Where(stream => IsFault(provider, fault, stream)))
                {
                    cases.Add(provider, fault, stream);
                }
            }
        }

        return cases;
    }

    /// <summary>The faults that fail before the upstream yields its first chunk, so a fallback can still answer.</summary>
    public static TheoryData<string, UpstreamFault, bool> FaultsBeforeFirstChunk()
    {
        var cases = new TheoryData<string, UpstreamFault, bool>();
        foreach (var provider in UpstreamFaultFixture.Providers)
        {
            foreach (var fault in new[] { UpstreamFault.JsonInsteadOfStream, UpstreamFault.EmptyBody, UpstreamFault.HtmlPage, UpstreamFault.ErrorEnvelope })
            {
                foreach (var stream in new[] { true, false }.Where(stream => IsFault(provider, fault, stream)))
                {
                    cases.Add(provider, fault, stream);
                }
            }
        }

        return cases;
    }

    public static TheoryData<string, FrontEnd, bool, string> QuotedKeys()
    {
        var cases = new TheoryData<string, FrontEnd, bool, string>();
        foreach (var provider in UpstreamFaultFixture.Providers)
        {
            foreach (var frontEnd in Enum.GetValues<FrontEnd>())
            {
                foreach (var quote in new[] { "quote-key", "quote-context", "quote-other" })
                {
                    cases.Add(provider, frontEnd, true, quote);
                    cases.Add(provider, frontEnd, false, quote);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task Chat_UpstreamAnswerBroken_FailsEachTimeAndIsNeverCached(string provider, UpstreamFault fault, bool stream)
    {
        var prompt = Prompt($"fault={fault}");

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var (status, body, _) = await PostAsync(FrontEnd.OpenAI, provider, prompt, stream);

            AssertFailed(FrontEnd.OpenAI, status, body, UpstreamFaultTests.ExpectedMessage(fault, stream), $"attempt {attempt}");
            Assert.Equal(attempt, fixture.UpstreamCalls(provider, prompt));
        }
    }

    [Theory]
    [InlineData(UpstreamFault.NoFinalEvent)]
    [InlineData(UpstreamFault.HtmlPage)]
    [InlineData(UpstreamFault.Oversized)]
    [InlineData(UpstreamFault.BreakMidAnswer)]
    public async Task Messages_UpstreamAnswerBroken_FailsOnEveryProviderAndIsNeverCached(UpstreamFault fault)
    {
        foreach (var provider in UpstreamFaultFixture.Providers)
        {
            foreach (var stream in new[] { true, false })
            {
                var prompt = Prompt($"fault={fault} {provider} {stream}");
                for (var attempt = 1; attempt <= 2; attempt++)
                {
                    var (status, body, _) = await PostAsync(FrontEnd.Anthropic, provider, prompt, stream);

                    AssertFailed(FrontEnd.Anthropic, status, body, UpstreamFaultTests.ExpectedMessage(fault, stream), $"{provider}, stream {stream}, attempt {attempt}");
                    Assert.Equal(attempt, fixture.UpstreamCalls(provider, prompt));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(FaultsBeforeFirstChunk))]
    public async Task Chat_UpstreamAnswerBrokenBeforeFirstChunk_FallbackAnswers(string provider, UpstreamFault fault, bool stream)
    {
        var prompt = Prompt($"fault={fault}");

        var (status, body, answeredBy) = await PostAsync(FrontEnd.OpenAI, provider + "-fallback", prompt, stream);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("spare", answeredBy);
        Assert.Contains(stream ? "data: [DONE]" : $"echo: {prompt}", body);
        Assert.Equal(1, fixture.UpstreamCalls(provider, prompt));
        Assert.Equal(1, fixture.UpstreamCalls("spare", prompt));
    }

    [Fact]
    public async Task Chat_BrokenAnswersReachTheThreshold_CircuitOpensAndFallbackAnswersAlone()
    {
        var prompts = Enumerable.Range(0, UpstreamFaultFixture.BrittleThreshold + 2).Select(i => Prompt($"fault={UpstreamFault.HtmlPage} {i}")).ToList();

        foreach (var prompt in prompts)
        {
            var (status, _, answeredBy) = await PostAsync(FrontEnd.OpenAI, "brittle", prompt, stream: false);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("spare", answeredBy);
        }

        // Broken answers count against the circuit like any upstream failure: after the threshold it is skipped.
        Assert.Equal(UpstreamFaultFixture.BrittleThreshold, prompts.Sum(p => fixture.UpstreamCalls("brittle", p)));
    }

    [Theory]
    [MemberData(nameof(QuotedKeys))]
    public async Task Call_UpstreamErrorQuotesAProviderKey_ResponseCarriesNoKey(string provider, FrontEnd frontEnd, bool stream, string quote)
    {
        var prompt = Prompt(quote);

        var (status, body, _) = await PostAsync(frontEnd, provider, prompt, stream);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("[REDACTED]", body);
        AssertNoProviderKey(body);
        Assert.Equal(1, fixture.UpstreamCalls(provider, prompt));
    }

    [Theory]
    [MemberData(nameof(InStreamQuotes))]
    public async Task Call_InStreamErrorQuotesAProviderKey_ResponseCarriesNoKey(string provider, FrontEnd frontEnd, bool stream)
    {
        var prompt = Prompt("quote-in-stream");

        var (status, body, _) = await PostAsync(frontEnd, provider, prompt, stream);

        AssertNoProviderKey(body);
        // Ollama's errors carry no type, so its error is a failed server whose text is not passed on.
        var typed = provider != "ollama";
        Assert.Equal(stream ? HttpStatusCode.OK : typed ? HttpStatusCode.BadRequest : HttpStatusCode.BadGateway, status);
        if (typed)
        {
            Assert.Contains("your header was '", body);
            Assert.Contains("[REDACTED]", body);
        }

        if (stream)
        {
            Assert.Contains(frontEnd == FrontEnd.OpenAI ? "data: {\"error\"" : "event: error", body);
        }
    }

    public static TheoryData<string, FrontEnd, bool> InStreamQuotes()
    {
        var cases = new TheoryData<string, FrontEnd, bool>();
        foreach (var provider in UpstreamFaultFixture.Providers)
        {
            foreach (var frontEnd in Enum.GetValues<FrontEnd>())
            {
                cases.Add(provider, frontEnd, true);
                cases.Add(provider, frontEnd, false);
            }
        }

        return cases;
    }

    [Fact]
    public async Task Call_UpstreamErrorsQuoteProviderKeys_SiloLogsCarryNoKey()
    {
        foreach (var provider in UpstreamFaultFixture.Providers)
        {
            foreach (var quote in new[] { "quote-key", "quote-other" })
            {
                var (status, _, _) = await PostAsync(FrontEnd.OpenAI, provider, Prompt(quote), stream: true);
                Assert.Equal(HttpStatusCode.BadRequest, status);
            }

            await PostAsync(FrontEnd.Anthropic, provider, Prompt("quote-in-stream"), stream: true);
        }

        AssertNoProviderKey(fixture.Silo.Output);
    }

    /// <remarks>
    /// A cache miss calls the upstream the way its first caller asked (a stream, or a whole answer), so the faults are
    /// those of that wire: a whole JSON answer is the right answer to a non-streaming call.
    /// </remarks>
    private static bool IsFault(string provider, UpstreamFault fault, bool stream) =>
        fault is not (UpstreamFault.None or UpstreamFault.ErrorEventMidStream)
        && !(fault == UpstreamFault.JsonInsteadOfStream && !stream)
        // Ollama's whole JSON answer is one NDJSON line marked done: a complete stream, not a fault.
        && !(fault == UpstreamFault.JsonInsteadOfStream && provider == "ollama");

    private static void AssertFailed(FrontEnd frontEnd, HttpStatusCode status, string body, string expectedMessage, string phase)
    {
        // 502, or 503 when the error a 200 carried was an overload (Anthropic's overloaded_error).
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"{phase}: HTTP {(int)status}: {body}");
        Assert.True(body.Contains(expectedMessage, StringComparison.Ordinal), $"{phase}: '{expectedMessage}' not in: {Cut(body)}");
        if (status == HttpStatusCode.OK)
        {
            // Chunks had gone out: the failure is the stream's error event, and the stream never ends as a success.
            if (frontEnd == FrontEnd.OpenAI)
            {
                Assert.DoesNotContain("data: [DONE]", body);
                Assert.Contains("data: {\"error\"", body);
            }
            else
            {
                Assert.DoesNotContain("message_stop", body);
                Assert.Contains("event: error", body);
            }
        }
    }

    private static void AssertNoProviderKey(string text)
    {
        foreach (var (provider, key) in UpstreamFaultFixture.ProviderKeys)
        {
            Assert.False(text.Contains(key, StringComparison.Ordinal), $"the key of provider '{provider}' is in: {Cut(text)}");
        }
    }

    private static string Cut(string text) => text.Length <= 2000 ? text : text[..2000] + "…";

    private static string Prompt(string behaviour, [CallerMemberName] string test = "") => $"{behaviour} {test} {Guid.NewGuid():n}";

    private async Task<(HttpStatusCode Status, string Body, string? AnsweredBy)> PostAsync(FrontEnd frontEnd, string alias, string prompt, bool stream)
    {
        var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt });
        var body = new JsonObject { ["model"] = alias, ["temperature"] = 0, ["stream"] = stream, ["messages"] = messages };
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Silo.BaseUrl + (frontEnd == FrontEnd.OpenAI ? "/v1/chat/completions" : "/v1/messages"));
        if (frontEnd == FrontEnd.OpenAI)
        {
            request.Headers.Authorization = new("Bearer", UpstreamFaultFixture.AppKey);
        }
        else
        {
            body["max_tokens"] = 64;
            request.Headers.Add("x-api-key", UpstreamFaultFixture.AppKey);
            request.Headers.Add("anthropic-version", "2023-06-01");
        }

        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var answeredBy = response.Headers.TryGetValues("x-gatehouse-provider", out var values) ? values.FirstOrDefault() : null;
        return (response.StatusCode, text, answeredBy);
    }
}
