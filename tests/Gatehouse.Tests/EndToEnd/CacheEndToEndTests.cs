using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>The response cache through the official OpenAI SDK and raw HTTP, against the real silo process.</summary>
[Collection(CacheCollection.Name)]
public sealed class CacheEndToEndTests(CacheFixture fixture)
{
    private const string CacheHeader = "x-gatehouse-cache";

    private ChatClient Chat(string key = CacheFixture.KeyA, params (string Name, string Value)[] headers)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(fixture.ApiBase), RetryPolicy = new ClientRetryPolicy(0) };
        if (headers.Length > 0)
        {
            options.AddPolicy(new HeaderPolicy(headers), PipelinePosition.PerCall);
        }

        return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(CacheFixture.Model);
    }

    private static ChatCompletionOptions Deterministic => new() { Temperature = 0f };

    private static string Header(ClientResult result, string name) =>
        result.GetRawResponse().Headers.TryGetValue(name, out var value) ? value! : "";

    private static string Unique([CallerMemberName] string test = "") => $"{test} {Guid.NewGuid():n}";

    private Task<ClientResult<ChatCompletion>> Ask(string prompt, string key = CacheFixture.KeyA, ChatCompletionOptions? options = null, params (string, string)[] headers) =>
        Chat(key, headers).CompleteChatAsync([new UserChatMessage(prompt)], options ?? Deterministic);

    [Fact]
    public async Task CompleteChat_SameDeterministicRequestTwice_MissThenHitWithOneUpstreamCall()
    {
        var prompt = Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);

        var first = await Ask(prompt);
        var second = await Ask(prompt);

        Assert.Equal("miss", Header(first, CacheHeader));
        Assert.Equal("hit", Header(second, CacheHeader));
        Assert.Equal("up", Header(second, "x-gatehouse-provider"));
        Assert.Equal("1", Header(second, "x-gatehouse-attempts"));
        Assert.Equal($"echo: {prompt}", second.Value.Content[0].Text);
        Assert.Equal(first.Value.Content[0].Text, second.Value.Content[0].Text);
        Assert.Equal(11, second.Value.Usage.InputTokenCount);
        Assert.Equal(before + 1, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
        // The one upstream call is the kind the first caller asked for: a whole answer, which carries its usage.
        var sent = fixture.Upstream.Requests.Last(r => r.Tag == CacheFixture.Tag);
        Assert.False(sent.Stream);
    }

    [Fact]
    public async Task CompleteChat_IdenticalRequestWhileFirstInFlight_JoinsIt()
    {
        var prompt = "slow: " + Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);
        var arrived = fixture.Upstream.Requests.Count;

        var first = Ask(prompt);
        // Send the second only once the first has reached the upstream, which holds it for SlowMs.
        await WaitForUpstreamRequest(arrived, prompt).Within("the first request at the upstream double");
        var second = await Ask(prompt).Within("the joined answer");

        Assert.Equal("shared", Header(second, CacheHeader));
        Assert.Equal("miss", Header(await first.Within("the first answer"), CacheHeader));
        Assert.Equal($"echo: {prompt}", second.Value.Content[0].Text);
        Assert.Equal(before + 1, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
    }

    [Fact]
    public async Task CompleteChat_NonDeterministicRequest_BypassesTheCache()
    {
        var prompt = Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);
        var random = new ChatCompletionOptions { Temperature = 0.7f };

        var first = await Ask(prompt, options: random);
        var second = await Ask(prompt, options: random);
        var forced = await Ask(prompt, options: random, headers: (CacheHeader, "force"));
        var forcedAgain = await Ask(prompt, options: random, headers: (CacheHeader, "force"));

        Assert.Equal("bypass", Header(first, CacheHeader));
        Assert.Equal("bypass", Header(second, CacheHeader));
        Assert.Equal("miss", Header(forced, CacheHeader));
        Assert.Equal("hit", Header(forcedAgain, CacheHeader));
        Assert.Equal(before + 3, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
    }

    [Fact]
    public async Task CompleteChat_SeedSet_IsCached()
    {
        var prompt = Unique();
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; it is exactly what this test needs.
        var seeded = new ChatCompletionOptions { Temperature = 0.9f, Seed = 42 };
#pragma warning restore OPENAI001

        await Ask(prompt, options: seeded);
        var second = await Ask(prompt, options: seeded);

        Assert.Equal("hit", Header(second, CacheHeader));
    }

    [Fact]
    public async Task CompleteChat_CacheControl_NoCacheRefreshesAndNoStoreDoesNotStore()
    {
        var prompt = Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);

        await Ask(prompt);
        var refreshed = await Ask(prompt, headers: ("Cache-Control", "no-cache"));
        var afterRefresh = await Ask(prompt);

        var unstored = Unique() + " unstored";
        var noStore = await Ask(unstored, headers: ("Cache-Control", "no-store"));
        var afterNoStore = await Ask(unstored);

        Assert.Equal("miss", Header(refreshed, CacheHeader));
        Assert.Equal("hit", Header(afterRefresh, CacheHeader));
        Assert.Equal("miss", Header(noStore, CacheHeader));
        Assert.Equal("miss", Header(afterNoStore, CacheHeader));
        Assert.Equal(before + 4, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
    }

    [Fact]
    public async Task CompleteChat_OtherApp_DoesNotSeeTheEntryUnlessNamespaceIsShared()
    {
        var prompt = Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);

        var a = await Ask(prompt, CacheFixture.KeyA);
        var b = await Ask(prompt, CacheFixture.KeyB);
        var team1 = await Ask(prompt, CacheFixture.TeamKey1);
        var team2 = await Ask(prompt, CacheFixture.TeamKey2);

        Assert.Equal("miss", Header(a, CacheHeader));
        Assert.Equal("miss", Header(b, CacheHeader));
        Assert.Equal("miss", Header(team1, CacheHeader));
        Assert.Equal("hit", Header(team2, CacheHeader));
        Assert.Equal(before + 3, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
    }

    [Fact]
    public async Task CompleteChatStreaming_AfterNonStreamingMiss_ReplaysTheAnswerAsSse()
    {
        var prompt = Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);
        await Ask(prompt);

        // The official SDK parses the replay: text deltas, finish reason and the usage chunk it asks for.
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage(prompt)], Deterministic))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal($"echo: {prompt}", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(7, usage!.OutputTokenCount);

        // And on the wire: the header, data: events, a finish event and [DONE]; no usage chunk when not asked for.
        using var http = new HttpClient();
        using var message = new HttpRequestMessage(HttpMethod.Post, fixture.ApiBase + "/chat/completions")
        {
            Content = new StringContent(new JsonObject
            {
                ["model"] = CacheFixture.Model,
                ["temperature"] = 0,
                ["stream"] = true,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CacheFixture.KeyA);
        using var response = await http.SendAsync(message);
        var body = await response.Content.ReadAsStringAsync();
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("hit", response.Headers.GetValues(CacheHeader).Single());
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.Contains("\"finish_reason\":\"stop\"", events[^2], StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\":{", body, StringComparison.Ordinal);
        Assert.Equal(before + 1, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
    }

    [Fact]
    public async Task CompleteChat_TtlElapsed_CallsUpstreamAgain()
    {
        var prompt = Unique();
        var before = fixture.Upstream.RequestCountFor(CacheFixture.Tag);
        await Ask(prompt);
        // The answer was stored before it reached this caller, so its expiry is at most TtlSeconds from now (timed from
        // before the request, a slow first answer on a loaded machine left it still fresh after the wait).
        var stored = TimeProvider.System.GetTimestamp();

        // A real process has a real clock: wait until the TTL has certainly passed (TtlSeconds plus a margin).
        var remaining = TimeSpan.FromSeconds(CacheFixture.TtlSeconds + 0.5) - TimeProvider.System.GetElapsedTime(stored);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, TimeProvider.System);
        }

        var after = await Ask(prompt);

        Assert.Equal("miss", Header(after, CacheHeader));
        Assert.Equal(before + 2, fixture.Upstream.RequestCountFor(CacheFixture.Tag));
    }

    private async Task WaitForUpstreamRequest(int seenBefore, string prompt)
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var previous = fixture.Upstream.Behavior;
        fixture.Upstream.Behavior = request =>
        {
            if (request.LastUserText == prompt)
            {
                arrived.TrySetResult();
            }

            return previous?.Invoke(request);
        };
        try
        {
            if (fixture.Upstream.Requests.Skip(seenBefore).Any(r => r.LastUserText == prompt))
            {
                return;
            }

            await arrived.Task;
        }
        finally
        {
            fixture.Upstream.Behavior = previous;
        }
    }

    /// <summary>Adds fixed request headers, as a caller would to pass cache directives through the SDK.</summary>
    private sealed class HeaderPolicy((string Name, string Value)[] headers) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentPoolIndex)
        {
            Add(message);
            ProcessNext(message, pipeline, currentPoolIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentPoolIndex)
        {
            Add(message);
            return ProcessNextAsync(message, pipeline, currentPoolIndex);
        }

        private void Add(PipelineMessage message)
        {
            foreach (var (name, value) in headers)
            {
                message.Request.Headers.Set(name, value);
            }
        }
    }
}
