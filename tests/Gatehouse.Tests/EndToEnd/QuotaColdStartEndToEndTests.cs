using System.ClientModel;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using Gatehouse.Tests.Doubles;
using OpenAI.Chat;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// A new user's first minutes: a silo process started for the test alone (nothing warmed it), whose upstream providers
/// and app all have per-minute limits (and the providers a <c>MaxConcurrency</c>), cache on and no waiting
/// (<c>DefaultMaxWaitMs: 0</c>). Its very first requests are answered at once — through the OpenAI SDK, streamed or
/// not, and through the Anthropic SDK — with the app's x-ratelimit-* headers.
/// </summary>
public sealed class QuotaColdStartEndToEndTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CompleteChat_FirstRequestsOfAFreshSilo_Answer200WithRateLimitHeaders()
    {
        await using var cluster = await ColdStartCluster.StartAsync();
        var chat = QuotaClients.Chat(cluster.ApiBase, ColdStartCluster.AppKey, ColdStartCluster.OpenAIModel);

        // The very first requests of the process, three at once (the provider allows 4 concurrent calls).
        var responses = await QuotaClients.AllAdmittedAsync(Enumerable.Range(1, 3).Select(i => chat.CompleteChatAsync([new UserChatMessage($"first {i}")])));

        foreach (var response in responses)
        {
            Assert.Contains("echo: first ", response.Content.ToString());
            AssertRateLimitHeaders(name => QuotaClients.Header(response, name));
        }

        Assert.Equal(3, cluster.OpenAI.RequestCountFor(ColdStartCluster.OpenAITag));
    }

    [Fact]
    public async Task CompleteChatStreaming_FirstRequestOfAFreshSilo_Streams200WithRateLimitHeaders()
    {
        await using var cluster = await ColdStartCluster.StartAsync();
        var capture = new ResponseHeaderCapture();
        var chat = QuotaClients.Chat(cluster.ApiBase, ColdStartCluster.AppKey, ColdStartCluster.OpenAIModel, capture);
        var text = new StringBuilder();

        using var timeout = new CancellationTokenSource(CallTimeout);
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("first streamed")], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("echo: first streamed", text.ToString());
        Assert.Equal(200, capture.Status);
        AssertRateLimitHeaders(capture.Header);
        Assert.Equal(1, cluster.OpenAI.StreamRequestCount);
    }

    [Fact]
    public async Task Messages_AnthropicSdkFirstRequestOfAFreshSilo_Answers200WithRateLimitHeaders()
    {
        await using var cluster = await ColdStartCluster.StartAsync();
        using var client = new AnthropicClient { BaseUrl = cluster.Silo.BaseUrl, ApiKey = ColdStartCluster.AppKey, MaxRetries = 0 };
        using var timeout = new CancellationTokenSource(CallTimeout);

        var raw = await client.Messages.WithRawResponse.Create(
            new MessageCreateParams { Model = ColdStartCluster.AnthropicModel, MaxTokens = 64, Messages = [new UserMessageParam("first via anthropic")] },
            timeout.Token);
        var message = await raw.Deserialize(timeout.Token);

        Assert.Equal(System.Net.HttpStatusCode.OK, raw.RawMessage.StatusCode);
        Assert.NotEmpty(message.Content);
        AssertRateLimitHeaders(name => raw.RawMessage.Headers.TryGetValues(name, out var values) ? values.Single() : null);
        Assert.Equal(1, cluster.Anthropic.RequestCountFor(ColdStartCluster.AnthropicTag));
    }

    private static void AssertRateLimitHeaders(Func<string, string?> header)
    {
        Assert.Equal(ColdStartCluster.AppRequestsPerMinute.ToString(CultureInfo.InvariantCulture), header("x-ratelimit-limit-requests"));
        Assert.InRange(ParseInt(header("x-ratelimit-remaining-requests"), "x-ratelimit-remaining-requests"), 0, ColdStartCluster.AppRequestsPerMinute - 1);
        Assert.Equal(ColdStartCluster.AppTokensPerMinute.ToString(CultureInfo.InvariantCulture), header("x-ratelimit-limit-tokens"));
        Assert.InRange(ParseInt(header("x-ratelimit-remaining-tokens"), "x-ratelimit-remaining-tokens"), 0, ColdStartCluster.AppTokensPerMinute - 1);
    }

    private static int ParseInt(string? value, string name)
    {
        Assert.True(value is not null, $"the response has no {name} header");
        return int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Upstream doubles and a silo process started for one test, with limits everywhere.</summary>
    private sealed class ColdStartCluster : IAsyncDisposable
    {
        public const string AppKey = "gk-cold-start";
        public const int AppRequestsPerMinute = 10;
        public const int AppTokensPerMinute = 20_000;
        public const string OpenAIModel = "gpt-cold";
        public const string OpenAITag = "cold";
        public const string AnthropicModel = "claude-cold";
        public const string AnthropicTag = "cold";
        private const string AnthropicProviderKey = "test-ant-cold-start-secret-0123456789";

        private ColdStartCluster(OpenAIUpstreamDouble openAI, AnthropicUpstreamDouble anthropic)
        {
            OpenAI = openAI;
            Anthropic = anthropic;
        }

        public OpenAIUpstreamDouble OpenAI { get; }

        public AnthropicUpstreamDouble Anthropic { get; }

        public SiloProcess Silo { get; private set; } = null!;

        public string ApiBase => Silo.BaseUrl + "/v1";

        public static async Task<ColdStartCluster> StartAsync()
        {
            var cluster = new ColdStartCluster(await OpenAIUpstreamDouble.StartAsync(), await AnthropicUpstreamDouble.StartAsync());
            try
            {
                var config = new JsonObject
                {
                    ["Gatehouse"] = new JsonObject
                    {
                        ["Providers"] = new JsonObject
                        {
                            ["openai-up"] = Limited(new JsonObject { ["Kind"] = "OpenAICompatible", ["BaseUrl"] = cluster.OpenAI.BaseUrlFor(OpenAITag) }),
                            ["anthropic-up"] = Limited(new JsonObject
                            {
                                ["Kind"] = "Anthropic",
                                ["BaseUrl"] = cluster.Anthropic.BaseUrlFor(AnthropicTag),
                                ["ApiKey"] = "env:E2E_COLD_ANTHROPIC_KEY",
                            }),
                        },
                        ["Models"] = new JsonObject
                        {
                            [OpenAIModel] = Alias("openai-up", "gpt-4o-mini"),
                            [AnthropicModel] = Alias("anthropic-up", "claude-sonnet-4-5"),
                        },
                        ["Apps"] = new JsonObject
                        {
                            ["newcomer"] = new JsonObject
                            {
                                ["Keys"] = new JsonArray(AppKey),
                                ["RequestsPerMinute"] = AppRequestsPerMinute,
                                ["TokensPerMinute"] = AppTokensPerMinute,
                            },
                        },
                        ["Cache"] = new JsonObject { ["Enabled"] = true },
                        ["RateLimits"] = new JsonObject { ["DefaultMaxWaitMs"] = 0 },
                    },
                };

                cluster.Silo = await SiloProcess.StartAsync(
                    config.ToJsonString(),
                    new Dictionary<string, string> { ["E2E_COLD_ANTHROPIC_KEY"] = AnthropicProviderKey });
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Silo is not null)
            {
                await Silo.DisposeAsync();
            }

            await OpenAI.DisposeAsync();
            await Anthropic.DisposeAsync();
        }

        private static JsonObject Limited(JsonObject provider)
        {
            provider["RequestsPerMinute"] = 30;
            provider["TokensPerMinute"] = 100_000;
            provider["MaxConcurrency"] = 4;
            provider["TimeoutSeconds"] = 10;
            return provider;
        }

        private static JsonObject Alias(string provider, string model) =>
            new() { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = provider, ["Model"] = model }) };
    }
}
