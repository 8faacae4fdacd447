using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Gemini;
using Gatehouse.Tests.Doubles;
using Microsoft.Extensions.Logging;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.Gemini;

/// <summary>The Gemini adapter's embeddings (<c>embedContent</c>, <c>batchEmbedContents</c>) over real HTTP against <see cref="GeminiUpstreamDouble"/>.</summary>
public sealed class GeminiEmbeddingGatewayTests : IAsyncLifetime
{
    private const string Model = "gemini-embedding-001";
    private const string Key = "gm-FAKE-embed-key-0123456789";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private GeminiUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);
    private readonly CapturingLoggerProvider _logs = new();

    public async Task InitializeAsync() => _upstream = await GeminiUpstreamDouble.StartAsync(Key, _testTimeout.Token);

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            (gateway as IDisposable)?.Dispose();
        }

        await _upstream.DisposeAsync();
        _testTimeout.Dispose();
    }

    // ---- requests ----

    [Fact]
    public void Factory_ServesEmbeddings_AndTheAdapterIsItsOwnEmbeddingGateway()
    {
        IChatGatewayFactory factory = new GeminiChatGatewayFactory();
        var gateway = factory.Create("gemini", Options());
        _gateways.Add(gateway);

        Assert.True(factory.ServesEmbeddings);
        Assert.Same(gateway, gateway.GetService(typeof(IEmbeddingGateway)));
    }

    [Fact]
    public async Task Embed_OneInput_PostsEmbedContentWithKeyInHeaderOnly()
    {
        var response = await CreateGateway().EmbedAsync(Request("hello"), _testTimeout.Token);

        var sent = _upstream.LastEmbedRequest;
        Assert.Equal($"/v1beta/models/{Model}:embedContent", sent.Path);
        Assert.Equal("""{"content":{"parts":[{"text":"hello"}]}}""", sent.Body);
        Assert.Equal(Key, sent.Header("x-goog-api-key"));
        Assert.Null(sent.Header("authorization"));
        Assert.DoesNotContain(Key, sent.Path);
        Assert.DoesNotContain(Key, sent.Body);
        Assert.Empty(_upstream.Requests);

        Assert.Equal(Model, response.Model);
        Assert.Equal(GeminiUpstreamDouble.EmbeddingFor(Model, "hello", 8), Assert.Single(response.Vectors));
        Assert.Null(response.Route);
    }

    [Fact]
    public async Task Embed_SeveralInputs_PostsOneBatchEmbedContents_AndVectorsComeExactlyInInputOrder()
    {
        var response = await CreateGateway().EmbedAsync(Request("first", "second", "third") with { Dimensions = 5 }, _testTimeout.Token);

        var sent = _upstream.LastEmbedRequest;
        Assert.Equal(1, _upstream.EmbedRequestCount);
        Assert.Equal($"/v1beta/models/{Model}:batchEmbedContents", sent.Path);
        Assert.Equal(
            """{"requests":["""
            + $$"""{"model":"models/{{Model}}","content":{"parts":[{"text":"first"}]},"outputDimensionality":5},"""
            + $$"""{"model":"models/{{Model}}","content":{"parts":[{"text":"second"}]},"outputDimensionality":5},"""
            + $$"""{"model":"models/{{Model}}","content":{"parts":[{"text":"third"}]},"outputDimensionality":5}]}""",
            sent.Body);

        Assert.Equal(3, response.Vectors.Length);
        Assert.Equal(GeminiUpstreamDouble.EmbeddingFor(Model, "first", 5), response.Vectors[0]);
        Assert.Equal(GeminiUpstreamDouble.EmbeddingFor(Model, "second", 5), response.Vectors[1]);
        Assert.Equal(GeminiUpstreamDouble.EmbeddingFor(Model, "third", 5), response.Vectors[2]);
    }

    [Fact]
    public async Task Embed_Dimensions_IsOutputDimensionality_AndUserIsNotSent()
    {
        var response = await CreateGateway().EmbedAsync(Request("x") with { Dimensions = 3, User = "end-user-7" }, _testTimeout.Token);

        Assert.Equal("""{"content":{"parts":[{"text":"x"}]},"outputDimensionality":3}""", _upstream.LastEmbedRequest.Body);
        Assert.Equal(3, Assert.Single(response.Vectors).Length);
    }

    [Theory]
    [InlineData("models/gemini-embedding-001")]
    [InlineData("gemini-embedding-001")]
    public async Task Embed_ModelWithOrWithoutModelsPrefix_IsOnePathAndOneBatchModel(string model)
    {
        await CreateGateway().EmbedAsync(new EmbeddingRequest { Model = model, Inputs = ["a", "b"] }, _testTimeout.Token);

        var sent = _upstream.LastEmbedRequest;
        Assert.Equal($"/v1beta/models/{Model}:batchEmbedContents", sent.Path);
        Assert.All(sent.Json!["requests"]!.AsArray(), r => Assert.Equal("models/" + Model, r!["model"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Embed_NoInputOrNoModel_IsInvalidRequestAndSendsNothing()
    {
        var gateway = CreateGateway();

        var noInput = await Assert.ThrowsAsync<GatewayException>(() => gateway.EmbedAsync(new EmbeddingRequest { Model = Model, Inputs = [] }, _testTimeout.Token));
        var noModel = await Assert.ThrowsAsync<GatewayException>(() => gateway.EmbedAsync(new EmbeddingRequest { Model = "", Inputs = ["x"] }, _testTimeout.Token));

        Assert.Equal((GatewayError.InvalidRequest, "input"), (noInput.Error, noInput.Param));
        Assert.Equal((GatewayError.InvalidRequest, "model"), (noModel.Error, noModel.Param));
        Assert.Equal(0, _upstream.EmbedRequestCount);
    }

    // ---- answers ----

    [Fact]
    public async Task Embed_AnswerWithoutUsage_HasNullUsage_NotAGuess()
    {
        var response = await CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token);

        Assert.Null(response.Usage);
    }

    [Fact]
    public async Task Embed_AnswerWithUsageMetadata_MapsPromptTokens()
    {
        _upstream.EmbedUsageTokens = 12;

        var response = await CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token);

        Assert.Equal(new Usage { PromptTokens = 12, CompletionTokens = 0 }, response.Usage);
    }

    [Theory]
    [InlineData("""{"embeddings":[{"values":[0.5,0.25]}]}""")]
    [InlineData("""{"embeddings":[{"values":[0.5]},{"values":[0.25]},{"values":[0.125]}]}""")]
    [InlineData("""{"embeddings":[{"values":[0.5]},{}]}""")]
    [InlineData("""{"embeddings":[{"values":[0.5]},null]}""")]
    [InlineData("""{"embeddings":[{"values":[0.5]},{"values":[]}]}""")]
    [InlineData("""{"embedding":{"values":[0.5]}}""")]
    [InlineData("""{}""")]
    public async Task Embed_BatchAnswerWithoutExactlyOneVectorPerInput_IsUpstreamFailed(string body)
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Body = body };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal("provider 'gemini' sent a response the gateway could not read", error.Message);
    }

    [Theory]
    [InlineData("""{"embeddings":[{"values":[0.5]}]}""")]
    [InlineData("""{"embedding":{}}""")]
    [InlineData("""{"embedding":null}""")]
    public async Task Embed_SingleAnswerWithoutItsVector_IsUpstreamFailed(string body)
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Body = body };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
    }

    [Theory]
    [InlineData(UpstreamFault.HtmlPage)]
    [InlineData(UpstreamFault.EmptyBody)]
    [InlineData(UpstreamFault.NoFinalEvent)]
    public async Task Embed_UnreadableAnswer_IsUpstreamFailed(UpstreamFault fault)
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Fault = fault };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
    }

    [Fact]
    public async Task Embed_ConnectionBreaksMidAnswer_IsUpstreamFailed()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Fault = UpstreamFault.BreakMidAnswer };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
    }

    [Fact]
    public async Task Embed_AnswerOverSizeLimit_IsUpstreamFailedNamingTheLimit()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Fault = UpstreamFault.Oversized, FaultBytes = 64 * 1024 };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway(o => o.MaxResponseBytes = 16 * 1024).EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("16384", error.Message);
    }

    // ---- errors ----

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT", GatewayError.InvalidRequest)]
    [InlineData(404, "NOT_FOUND", GatewayError.InvalidRequest)]
    [InlineData(401, "UNAUTHENTICATED", GatewayError.UpstreamAuthFailed)]
    [InlineData(403, "PERMISSION_DENIED", GatewayError.UpstreamAuthFailed)]
    [InlineData(429, "RESOURCE_EXHAUSTED", GatewayError.RateLimited)]
    [InlineData(500, "INTERNAL", GatewayError.UpstreamFailed)]
    [InlineData(503, "UNAVAILABLE", GatewayError.UpstreamFailed)]
    [InlineData(504, "DEADLINE_EXCEEDED", GatewayError.UpstreamFailed)]
    public async Task Embed_ErrorStatus_IsClassifiedAsForChat_OneInputAndMany(int status, string googleStatus, GatewayError expected)
    {
        _upstream.EmbedBehavior = _ => GeminiReplies.Error(status, googleStatus, "upstream says no");
        var gateway = CreateGateway();

        var single = await Assert.ThrowsAsync<GatewayException>(() => gateway.EmbedAsync(Request("a"), _testTimeout.Token));
        var batch = await Assert.ThrowsAsync<GatewayException>(() => gateway.EmbedAsync(Request("a", "b"), _testTimeout.Token));

        foreach (var e in new[] { single, batch })
        {
            Assert.Equal(expected, e.Error);
            Assert.Equal(status, e.UpstreamStatus);
            Assert.Equal(expected == GatewayError.InvalidRequest, e.Message.Contains("upstream says no", StringComparison.Ordinal));
        }

        Assert.Equal(2, _upstream.EmbedRequestCount);
    }

    [Fact]
    public async Task Embed_ResourceExhaustedWithRetryInfo_IsRateLimitedWithItsRetryDelay()
    {
        _upstream.EmbedBehavior = _ => GeminiReplies.ResourceExhausted("17s");

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal((GatewayError.RateLimited, 429), (error.Error, error.UpstreamStatus));
        Assert.Equal(TimeSpan.FromSeconds(17), error.RetryAfter);
    }

    [Fact]
    public async Task Embed_RetryAfterHeader_WinsOverRetryInfo()
    {
        _upstream.EmbedBehavior = _ => GeminiReplies.ResourceExhausted("17s") with { Headers = new Dictionary<string, string> { ["retry-after"] = "4" } };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(TimeSpan.FromSeconds(4), error.RetryAfter);
    }

    [Theory]
    [InlineData(429, "RESOURCE_EXHAUSTED", GatewayError.RateLimited)]
    [InlineData(503, "UNAVAILABLE", GatewayError.UpstreamFailed)]
    [InlineData(400, "INVALID_ARGUMENT", GatewayError.InvalidRequest)]
    public async Task Embed_ErrorEnvelopeIn200_IsClassifiedByItsCode(int code, string status, GatewayError expected)
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Body = GeminiReplies.Envelope(code, status, "from a proxy") };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal((expected, code), (error.Error, error.UpstreamStatus));
    }

    [Fact]
    public async Task Embed_WrongKey_IsUpstreamAuthFailedNotTheCallersBadRequest_AndNeverShowsTheKey()
    {
        const string wrongKey = "gm-FAKE-wrong-embed-key-98765";

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.ApiKey = wrongKey).EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamAuthFailed, error.Error);
        Assert.Equal(400, error.UpstreamStatus);
        Assert.Equal("provider 'gemini' rejected the gateway's credentials (HTTP 400, API_KEY_INVALID)", error.Message);
        Assert.All(_logs.Entries, line => Assert.DoesNotContain(wrongKey, line));
    }

    [Fact]
    public async Task Embed_UpstreamQuotesTheKey_KeyIsRedactedFromMessageAndLogs()
    {
        _upstream.EmbedBehavior = _ => GeminiReplies.InvalidArgument($"bad header x-goog-api-key: {Key}");

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.DoesNotContain(Key, error.ToString());
        Assert.Contains(UpstreamRedactor.Mask, error.Message);
        Assert.NotEmpty(_logs.Entries);
        Assert.All(_logs.Entries, line => Assert.DoesNotContain(Key, line));
    }

    [Fact]
    public async Task Embed_AnotherProvidersKeyQuoted_IsRedactedToo()
    {
        const string otherKey = "sk-FAKE-other-provider-key-4567";
        _upstream.EmbedBehavior = _ => GeminiReplies.InvalidArgument($"you also sent {otherKey}");
        var gateway = new GeminiChatGatewayFactory().Create("gemini", Options(), new UpstreamRedactor([Key, otherKey]));
        _gateways.Add(gateway);

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            ((IEmbeddingGateway)gateway.GetService(typeof(IEmbeddingGateway))!).EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.DoesNotContain(otherKey, error.Message);
    }

    [Fact]
    public async Task Embed_SlowerThanTimeout_IsUpstreamTimeout()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { DelayMs = 5_000 };

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.TimeoutSeconds = 0.2).EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamTimeout, error.Error);
    }

    [Fact]
    public async Task Embed_CallerCancels_ThrowsOperationCanceled()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.EmbedBehavior = _ =>
        {
            arrived.TrySetResult();
            return new UpstreamReply { DelayMs = 5_000 };
        };
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(_testTimeout.Token);

        var call = CreateGateway().EmbedAsync(Request("a"), caller.Token);
        await arrived.Task.WaitAsync(_testTimeout.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task Embed_ConnectionRefused_IsUpstreamFailed()
    {
        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.BaseUrl = $"http://127.0.0.1:{TestPorts.Closed()}").EmbedAsync(Request("a"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("could not connect", error.Message);
    }

    private ProviderOptions Options() => new() { Kind = ProviderKinds.Gemini, BaseUrl = _upstream.BaseUrl, ApiKey = Key, TimeoutSeconds = 10 };

    private IEmbeddingGateway CreateGateway(Action<ProviderOptions>? configure = null)
    {
        var options = Options();
        configure?.Invoke(options);
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        var gateway = new GeminiChatGatewayFactory(TimeProvider.System, loggerFactory).Create("gemini", options);
        _gateways.Add(gateway);
        return Assert.IsAssignableFrom<IEmbeddingGateway>(gateway.GetService(typeof(IEmbeddingGateway)));
    }

    private static EmbeddingRequest Request(params string[] inputs) => new() { Model = Model, Inputs = [.. inputs] };
}
