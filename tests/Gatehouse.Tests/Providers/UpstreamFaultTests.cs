using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Anthropic;
using Gatehouse.Providers.Gemini;
using Gatehouse.Providers.Local;
using Gatehouse.Providers.OpenAI;
using Gatehouse.Tests.Doubles;
using Xunit;

namespace Gatehouse.Tests.Providers;

/// <summary>
/// Every adapter against every broken 200 answer its upstream double can play, streaming and not: each is an
/// <see cref="GatewayError.UpstreamFailed"/> whose message says what happened, never an answer.
/// </summary>
public sealed class UpstreamFaultTests : IAsyncLifetime
{
    /// <summary>Small, so that the doubles' oversized answers (four times as large) stay quick to send.</summary>
    private const int MaxResponseBytes = 64 * 1024;
    private const int FaultBytes = 4 * MaxResponseBytes;
    private const string ProviderKey = "test-key-0123456789";

    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(20));
    private readonly List<IChatGateway> _gateways = [];
    private OpenAIUpstreamDouble _openAI = null!;
    private AnthropicUpstreamDouble _anthropic = null!;
    private OllamaUpstreamDouble _ollama = null!;
    private GeminiUpstreamDouble _gemini = null!;

    public static TheoryData<string, UpstreamFault, bool> Cases()
    {
        var cases = new TheoryData<string, UpstreamFault, bool>();
        foreach (var kind in new[] { ProviderKinds.OpenAI, ProviderKinds.OpenAICompatible, ProviderKinds.Anthropic, ProviderKinds.Ollama, ProviderKinds.Gemini })
        {
            foreach (var fault in Enum.GetValues<UpstreamFault>())
            {
                foreach (var stream in new[] { true, false })
                {
                    if (IsFault(kind, fault, stream))
                    {
                        cases.Add(kind, fault, stream);
                    }
                }
            }
        }

        return cases;
    }

    /// <summary>
    /// Whether the double's answer is broken for this call. A JSON answer to a non-streaming request is the answer
    /// itself; so is Ollama's whole JSON object to a streaming one, which is a single NDJSON line marked done.
    /// </summary>
    private static bool IsFault(string kind, UpstreamFault fault, bool stream) => fault switch
    {
        // An error the upstream reports is classified by its type, not as a broken answer: tested on its own below.
        UpstreamFault.None or UpstreamFault.ErrorEventMidStream => false,
        UpstreamFault.JsonInsteadOfStream => stream && kind != ProviderKinds.Ollama,
        _ => true,
    };

    /// <summary>What the failure's message must say, for a fault and whether the call streamed.</summary>
    public static string ExpectedMessage(UpstreamFault fault, bool stream) => fault switch
    {
        UpstreamFault.NoFinalEvent or UpstreamFault.EmptyBody when stream => "ended the stream before its final event",
        UpstreamFault.JsonInsteadOfStream or UpstreamFault.HtmlPage when stream => "instead of a stream",
        UpstreamFault.NoFinalEvent or UpstreamFault.EmptyBody or UpstreamFault.HtmlPage => "could not read",
        UpstreamFault.ErrorEnvelope => "failed (HTTP 5",
        UpstreamFault.HugeLine or UpstreamFault.Oversized => "MaxResponseBytes",
        UpstreamFault.BreakMidAnswer => "broke during the answer",
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
    };

    public async Task InitializeAsync()
    {
        _openAI = await OpenAIUpstreamDouble.StartAsync(_testTimeout.Token);
        _anthropic = await AnthropicUpstreamDouble.StartAsync(_testTimeout.Token);
        _ollama = await OllamaUpstreamDouble.StartAsync(_testTimeout.Token);
        _gemini = await GeminiUpstreamDouble.StartAsync(ProviderKey, _testTimeout.Token);
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            (gateway as IDisposable)?.Dispose();
        }

        await _openAI.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _ollama.DisposeAsync();
        await _gemini.DisposeAsync();
        _testTimeout.Dispose();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Call_UpstreamAnswerBroken_ThrowsUpstreamFailedNamingWhatHappened(string kind, UpstreamFault fault, bool stream)
    {
        var gateway = CreateGateway(kind, new UpstreamReply { Fault = fault, FaultBytes = FaultBytes });

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CallAsync(gateway, stream));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Contains(ExpectedMessage(fault, stream), ex.Message);
        Assert.Contains("'up'", ex.Message);
        if (fault is UpstreamFault.HugeLine or UpstreamFault.Oversized)
        {
            Assert.Contains($"larger than {MaxResponseBytes} bytes (Gatehouse:Providers:up:MaxResponseBytes)", ex.Message);
        }
    }

    [Theory]
    [InlineData(ProviderKinds.OpenAI, true)]
    [InlineData(ProviderKinds.OpenAI, false)]
    [InlineData(ProviderKinds.OpenAICompatible, true)]
    [InlineData(ProviderKinds.OpenAICompatible, false)]
    [InlineData(ProviderKinds.Anthropic, true)]
    [InlineData(ProviderKinds.Anthropic, false)]
    [InlineData(ProviderKinds.Ollama, true)]
    [InlineData(ProviderKinds.Ollama, false)]
    [InlineData(ProviderKinds.Gemini, true)]
    [InlineData(ProviderKinds.Gemini, false)]
    public async Task Call_ErrorInA200QuotesTheKey_ClassifiedByItsTypeWithoutTheKey(string kind, bool stream)
    {
        var gateway = CreateGateway(kind, new UpstreamReply { Fault = UpstreamFault.ErrorEventMidStream, Text = $"your header was 'Bearer {ProviderKey}'" });

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CallAsync(gateway, stream));

        Assert.DoesNotContain(ProviderKey, ex.Message);
        if (kind == ProviderKinds.Ollama)
        {
            // Ollama's errors carry no type: a failed server, whose text is not passed on.
            Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        }
        else
        {
            Assert.Equal(GatewayError.InvalidRequest, ex.Error);
            Assert.Equal("provider 'up' rejected the request (HTTP 400): your header was 'Bearer [REDACTED]'", ex.Message);
        }
    }

    [Theory]
    [InlineData(ProviderKinds.OpenAI)]
    [InlineData(ProviderKinds.OpenAICompatible)]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.Ollama)]
    [InlineData(ProviderKinds.Gemini)]
    public async Task Stream_HealthyAnswerUnderTheLimit_IsServed(string kind)
    {
        // The healthy echo stream is a few KiB of events.
        var gateway = CreateGateway(kind, reply: null, maxResponseBytes: 16 * 1024);

        var text = string.Concat(await CollectTextAsync(gateway.GetStreamingResponseAsync(Request(), _testTimeout.Token)));

        Assert.Equal("echo: hello", text);
    }

    private IChatGateway CreateGateway(string kind, UpstreamReply? reply, int maxResponseBytes = MaxResponseBytes)
    {
        var options = new ProviderOptions { Kind = kind, TimeoutSeconds = 10, MaxResponseBytes = maxResponseBytes, ApiKey = ProviderKey };
        IChatGatewayFactory factory;
        switch (kind)
        {
            case ProviderKinds.OpenAI or ProviderKinds.OpenAICompatible:
                _openAI.Behavior = _ => reply;
                options.BaseUrl = _openAI.BaseUrl;
                factory = kind == ProviderKinds.OpenAI ? new OpenAIChatGatewayFactory() : new OpenAICompatibleChatGatewayFactory();
                break;
            case ProviderKinds.Anthropic:
                _anthropic.Behavior = _ => reply;
                options.BaseUrl = _anthropic.BaseUrl;
                factory = new AnthropicChatGatewayFactory();
                break;
            case ProviderKinds.Gemini:
                _gemini.Behavior = _ => reply;
                options.BaseUrl = _gemini.BaseUrl;
                factory = new GeminiChatGatewayFactory();
                break;
            default:
                _ollama.Behavior = _ => reply;
                options.BaseUrl = _ollama.BaseUrl;
                factory = new OllamaChatGatewayFactory();
                break;
        }

        var gateway = factory.Create("up", options);
        _gateways.Add(gateway);
        return gateway;
    }

    private async Task CallAsync(IChatGateway gateway, bool stream)
    {
        if (stream)
        {
            await CollectTextAsync(gateway.GetStreamingResponseAsync(Request(), _testTimeout.Token));
        }
        else
        {
            await gateway.GetResponseAsync(Request(), _testTimeout.Token);
        }
    }

    private static async Task<List<string>> CollectTextAsync(IAsyncEnumerable<ChatChunk> chunks)
    {
        var text = new List<string>();
        await foreach (var chunk in chunks)
        {
            if (chunk.TextDelta is { } delta)
            {
                text.Add(delta);
            }
        }

        return text;
    }

    private static ChatRequest Request() => new()
    {
        Model = "up-model",
        Messages = [ChatMessage.FromText(ChatRole.User, "hello")],
    };
}
