using System.Net;
using System.Net.Sockets;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.OpenAI;
using Gatehouse.Tests.Doubles;
using Xunit;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.OpenAI;

/// <summary>The OpenAI adapter's Embeddings API over real HTTP against <see cref="OpenAIUpstreamDouble"/>.</summary>
public sealed class OpenAIEmbeddingGatewayTests : IAsyncLifetime
{
    private const string ProviderKey = "sk-FAKE-embeddings-key-0123456789";
    private const string Model = "text-embedding-3-small";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private OpenAIUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);

    public async Task InitializeAsync() => _upstream = await OpenAIUpstreamDouble.StartAsync(_testTimeout.Token);

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            (gateway as IDisposable)?.Dispose();
        }

        await _upstream.DisposeAsync();
        _testTimeout.Dispose();
    }

    [Fact]
    public async Task Embed_AllOptions_SendsThemUpstreamAsBase64Request()
    {
        var request = Request("first", "second") with { Dimensions = 4, User = "end-user-1" };

        await CreateGateway().EmbedAsync(request, _testTimeout.Token);

        var sent = Assert.Single(_upstream.EmbeddingRequests);
        Assert.Equal("/v1/embeddings", sent.Path);
        Assert.Equal($"Bearer {ProviderKey}", sent.Header("Authorization"));
        var json = sent.Json!.AsObject();
        Assert.Equal(Model, json["model"]!.GetValue<string>());
        Assert.Equal(["first", "second"], json["input"]!.AsArray().Select(i => i!.GetValue<string>()));
        Assert.Equal("base64", json["encoding_format"]!.GetValue<string>());
        Assert.Equal(4, json["dimensions"]!.GetValue<int>());
        Assert.Equal("end-user-1", json["user"]!.GetValue<string>());
        Assert.Equal(["model", "input", "encoding_format", "dimensions", "user"], json.Select(p => p.Key));
        Assert.Equal(0, _upstream.RequestCount);
    }

    [Fact]
    public async Task Embed_NoOptions_SendsNeitherDimensionsNorUser()
    {
        await CreateGateway().EmbedAsync(Request("only"), _testTimeout.Token);

        var json = Assert.Single(_upstream.EmbeddingRequests).Json!.AsObject();
        Assert.Equal(["model", "input", "encoding_format"], json.Select(p => p.Key));
    }

    [Fact]
    public async Task Embed_Base64Answer_DecodesVectorsExactlyWithUsage()
    {
        _upstream.PromptTokens = 13;

        var response = await CreateGateway().EmbedAsync(Request("alpha", "beta", "gamma") with { Dimensions = 5 }, _testTimeout.Token);

        Assert.Equal(Model, response.Model);
        EmbeddingAssert.Equal(
            [OpenAIUpstreamDouble.EmbeddingFor(Model, "alpha", 5), OpenAIUpstreamDouble.EmbeddingFor(Model, "beta", 5), OpenAIUpstreamDouble.EmbeddingFor(Model, "gamma", 5)],
            response.Vectors);
        Assert.Equal(new Usage { PromptTokens = 13, CompletionTokens = 0 }, response.Usage);
        Assert.Null(response.Route);
    }

    [Fact]
    public async Task Embed_Compatible_AsksForFloatsAndDecodesThemExactly()
    {
        var response = await CreateGateway(compatible: true, apiKey: null).EmbedAsync(Request("alpha", "beta"), _testTimeout.Token);

        var sent = Assert.Single(_upstream.EmbeddingRequests);
        Assert.Equal("float", sent.Json!["encoding_format"]!.GetValue<string>());
        Assert.Null(sent.Header("Authorization"));
        EmbeddingAssert.Equal([OpenAIUpstreamDouble.EmbeddingFor(Model, "alpha", 8), OpenAIUpstreamDouble.EmbeddingFor(Model, "beta", 8)], response.Vectors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Embed_AnswerOutOfOrder_ReturnsVectorsInInputOrder(bool compatible)
    {
        _upstream.EmbeddingsOutOfOrder = true;

        var response = await CreateGateway(compatible).EmbedAsync(Request("one", "two", "three"), _testTimeout.Token);

        EmbeddingAssert.Equal(
            [OpenAIUpstreamDouble.EmbeddingFor(Model, "one", 8), OpenAIUpstreamDouble.EmbeddingFor(Model, "two", 8), OpenAIUpstreamDouble.EmbeddingFor(Model, "three", 8)],
            response.Vectors);
    }

    [Fact]
    public async Task Embed_AnswerNamesModelVersion_ReportsUpstreamModel()
    {
        _upstream.EmbeddingBehavior = _ => new UpstreamReply
        {
            Body = """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small-v2","usage":{"prompt_tokens":2,"total_tokens":2}}""",
        };

        var response = await CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token);

        Assert.Equal("text-embedding-3-small-v2", response.Model);
        Assert.Equal([0.5f, -0.25f], Assert.Single(response.Vectors));
    }

    [Fact]
    public async Task Embed_AnswerWithTooFewVectors_ThrowsUpstreamFailed()
    {
        _upstream.EmbeddingBehavior = _ => new UpstreamReply
        {
            Body = """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}""",
        };

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal("provider 'test-openai' sent a response the gateway could not read", ex.Message);
    }

    [Fact]
    public async Task Embed_RateLimited_ThrowsRateLimitedWithRetryAfter()
    {
        _upstream.EmbeddingBehavior = _ => UpstreamReply.RateLimited(retryAfterSeconds: 7);

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.RateLimited, ex.Error);
        Assert.Equal(TimeSpan.FromSeconds(7), ex.RetryAfter);
        Assert.Equal(429, ex.UpstreamStatus);
        Assert.Equal(1, _upstream.EmbeddingRequestCount);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Embed_ServerError_ThrowsRetryableUpstreamFailedAfterOneRequest(int status)
    {
        _upstream.FailWithStatus = status;

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal(status, ex.UpstreamStatus);
        Assert.Contains("'test-openai'", ex.Message);
        Assert.Equal(1, _upstream.EmbeddingRequestCount);
    }

    [Fact]
    public async Task Embed_BadRequest_ThrowsInvalidRequestWithUpstreamMessage()
    {
        _upstream.EmbeddingBehavior = _ => UpstreamReply.BadRequest("This model does not support specifying dimensions.", "dimensions");

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x") with { Dimensions = 3 }, _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.Equal(400, ex.UpstreamStatus);
        Assert.Equal("dimensions", ex.Param);
        Assert.Contains("does not support specifying dimensions", ex.Message);
    }

    [Fact]
    public async Task Embed_InvalidKey_ThrowsUpstreamAuthFailedWithoutKey()
    {
        _upstream.EmbeddingBehavior = r => UpstreamReply.InvalidApiKey(r.Header("Authorization")!["Bearer ".Length..]);

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamAuthFailed, ex.Error);
        Assert.Equal(401, ex.UpstreamStatus);
        Assert.DoesNotContain(ProviderKey, ex.Message);
        Assert.DoesNotContain("sk-", ex.Message);
        Assert.Contains("'test-openai'", ex.Message);
    }

    [Fact]
    public async Task Embed_UpstreamQuotesKeyInBadRequest_RedactsKey()
    {
        _upstream.EmbeddingBehavior = _ => UpstreamReply.BadRequest($"Header 'Authorization: Bearer {ProviderKey}' is not allowed here.", null);

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.DoesNotContain(ProviderKey, ex.Message);
        Assert.Contains("is not allowed here", ex.Message);
    }

    [Fact]
    public async Task Embed_ErrorEnvelopeWith200_ThrowsUpstreamFailed()
    {
        _upstream.EmbeddingBehavior = _ => new UpstreamReply { Fault = UpstreamFault.ErrorEnvelope };

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
    }

    [Fact]
    public async Task Embed_HtmlPageWith200_ThrowsUpstreamFailed()
    {
        _upstream.EmbeddingBehavior = _ => new UpstreamReply { Fault = UpstreamFault.HtmlPage };

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal("provider 'test-openai' sent a response the gateway could not read", ex.Message);
    }

    [Fact]
    public async Task Embed_AnswerOverSizeLimit_ThrowsUpstreamFailedNamingTheLimit()
    {
        _upstream.EmbeddingBehavior = _ => new UpstreamReply { Fault = UpstreamFault.Oversized, FaultBytes = 64 * 1024 };

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway(maxResponseBytes: 16 * 1024).EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Contains("16384", ex.Message);
    }

    [Fact]
    public async Task Embed_UpstreamSlowerThanTimeout_ThrowsUpstreamTimeout()
    {
        _upstream.DelayMs = 30_000;

        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway(timeoutSeconds: 0.5).EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamTimeout, ex.Error);
    }

    [Fact]
    public async Task Embed_CallerCancels_ThrowsOperationCanceled()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.EmbeddingBehavior = _ =>
        {
            arrived.TrySetResult();
            return new UpstreamReply { DelayMs = 30_000 };
        };
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(_testTimeout.Token);

        var call = CreateGateway().EmbedAsync(Request("x"), caller.Token);
        await arrived.Task.WaitAsync(_testTimeout.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task Embed_ConnectionRefused_ThrowsUpstreamFailed()
    {
        var ex = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(baseUrl: $"http://127.0.0.1:{TestPorts.Closed()}/v1").EmbedAsync(Request("x"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal("could not connect to provider 'test-openai'", ex.Message);
    }

    [Fact]
    public async Task Embed_NoInput_ThrowsInvalidRequestWithoutCallingUpstream()
    {
        var ex = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(new EmbeddingRequest { Model = Model, Inputs = [] }, _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.Equal("input", ex.Param);
        Assert.Equal(0, _upstream.EmbeddingRequestCount);
    }

    private IEmbeddingGateway CreateGateway(
        bool compatible = false, string? baseUrl = null, double timeoutSeconds = 5, string? apiKey = ProviderKey, int maxResponseBytes = 0)
    {
        var options = new ProviderOptions
        {
            Kind = compatible ? ProviderKinds.OpenAICompatible : ProviderKinds.OpenAI,
            BaseUrl = baseUrl ?? _upstream.BaseUrl,
            ApiKey = apiKey,
            TimeoutSeconds = timeoutSeconds,
        };
        if (maxResponseBytes > 0)
        {
            options.MaxResponseBytes = maxResponseBytes;
        }

        IChatGatewayFactory factory = compatible ? new OpenAICompatibleChatGatewayFactory() : new OpenAIChatGatewayFactory();
        var gateway = factory.Create("test-openai", options);
        _gateways.Add(gateway);
        return Assert.IsAssignableFrom<IEmbeddingGateway>(gateway.GetService(typeof(IEmbeddingGateway)));
    }

    private static EmbeddingRequest Request(params string[] inputs) => new() { Model = Model, Inputs = [.. inputs] };

}
