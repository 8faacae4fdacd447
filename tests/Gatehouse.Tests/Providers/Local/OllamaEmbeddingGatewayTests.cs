using System.Net;
using System.Net.Sockets;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Local;
using Gatehouse.Tests.Doubles;
using Gatehouse.Tests.Support;

namespace Gatehouse.Tests.Providers.Local;

/// <summary>The native Ollama adapter's <c>/api/embed</c> over real HTTP against <see cref="OllamaUpstreamDouble"/>.</summary>
public sealed class OllamaEmbeddingGatewayTests : IAsyncLifetime
{
    private const string Model = "nomic-embed-text";
    private const string ProxyKey = "sk-FAKE-ollama-proxy-key-0123456789";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private OllamaUpstreamDouble _upstream = null!;
    private readonly List<IChatGateway> _gateways = [];
    private readonly CancellationTokenSource _testTimeout = new(TestTimeout);

    public async Task InitializeAsync() => _upstream = await OllamaUpstreamDouble.StartAsync(_testTimeout.Token);

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
    public async Task Embed_Inputs_MapsVectorsInOrderAndUsage()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { PromptTokens = 9 };

        var response = await CreateGateway().EmbedAsync(Request("alpha", "beta"), _testTimeout.Token);

        Assert.Equal(Model, response.Model);
        EmbeddingAssert.Equal([OpenAIUpstreamDouble.EmbeddingFor(Model, "alpha", 8), OpenAIUpstreamDouble.EmbeddingFor(Model, "beta", 8)], response.Vectors);
        Assert.Equal(new Usage { PromptTokens = 9, CompletionTokens = 0 }, response.Usage);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Embed_Request_SendsModelInputsAndDimensionsInOllamaShape()
    {
        var response = await CreateGateway().EmbedAsync(Request("one", "two") with { Dimensions = 3, User = "end-user-1" }, _testTimeout.Token);

        var sent = Assert.Single(_upstream.EmbedRequests);
        Assert.Equal("/api/embed", sent.Path);
        var json = sent.Json!.AsObject();
        Assert.Equal(["model", "input", "dimensions"], json.Select(p => p.Key));
        Assert.Equal(Model, json["model"]!.GetValue<string>());
        Assert.Equal(["one", "two"], json["input"]!.AsArray().Select(i => i!.GetValue<string>()));
        Assert.Equal(3, json["dimensions"]!.GetValue<int>());
        Assert.All(response.Vectors, v => Assert.Equal(3, v.Length));
        Assert.Null(sent.Header("authorization"));
    }

    [Fact]
    public async Task Embed_NoDimensions_SendsNone()
    {
        await CreateGateway().EmbedAsync(Request("one"), _testTimeout.Token);

        Assert.Equal(["model", "input"], Assert.Single(_upstream.EmbedRequests).Json!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Embed_ModelNotFound_IsInvalidRequestWithOllamaMessage()
    {
        _upstream.EmbedBehavior = _ => OllamaUpstreamDouble.ModelNotFound(Model);

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(404, error.UpstreamStatus);
        Assert.Contains("not found, try pulling it first", error.Message);
    }

    [Theory]
    [InlineData(400, GatewayError.InvalidRequest)]
    [InlineData(401, GatewayError.UpstreamAuthFailed)]
    [InlineData(429, GatewayError.RateLimited)]
    [InlineData(500, GatewayError.UpstreamFailed)]
    [InlineData(503, GatewayError.UpstreamFailed)]
    public async Task Embed_ErrorStatus_IsClassified(int status, GatewayError expected)
    {
        _upstream.EmbedBehavior = _ => OllamaUpstreamDouble.Error(status, "the input length exceeds the context length");

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(expected, error.Error);
        Assert.Equal(status, error.UpstreamStatus);
    }

    [Fact]
    public async Task Embed_RateLimitedWithRetryAfter_CarriesRetryAfter()
    {
        _upstream.EmbedBehavior = _ => OllamaUpstreamDouble.Error(429, "server busy, please try again.  maximum pending requests exceeded") with
        {
            Headers = new Dictionary<string, string> { ["retry-after"] = "4" },
        };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.RateLimited, error.Error);
        Assert.Equal(TimeSpan.FromSeconds(4), error.RetryAfter);
    }

    [Fact]
    public async Task Embed_ProxyQuotesKey_RedactsKey()
    {
        _upstream.EmbedBehavior = r => OllamaUpstreamDouble.Error(400, $"bad header: {r.Header("authorization")}");

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.ApiKey = ProxyKey).EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal($"Bearer {ProxyKey}", Assert.Single(_upstream.EmbedRequests).Header("authorization"));
        Assert.DoesNotContain(ProxyKey, error.Message);
    }

    [Fact]
    public async Task Embed_ErrorInOkBody_IsThatError()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Body = """{"error":"model runner has unexpectedly stopped"}""" };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
    }

    [Fact]
    public async Task Embed_FewerVectorsThanInputs_IsUpstreamFailed()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { Body = $$"""{"model":"{{Model}}","embeddings":[[0.5,0.25]],"prompt_eval_count":2}""" };

        var error = await Assert.ThrowsAsync<GatewayException>(() => CreateGateway().EmbedAsync(Request("a", "b"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Equal("provider 'local' sent a response the gateway could not read", error.Message);
    }

    [Fact]
    public async Task Embed_SlowerThanTimeout_IsUpstreamTimeout()
    {
        _upstream.EmbedBehavior = _ => new UpstreamReply { DelayMs = 5_000 };

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.TimeoutSeconds = 0.2).EmbedAsync(Request("hi"), _testTimeout.Token));

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

        var call = CreateGateway().EmbedAsync(Request("hi"), caller.Token);
        await arrived.Task.WaitAsync(_testTimeout.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task Embed_AnswerOverSizeLimit_IsUpstreamFailedNamingTheLimit()
    {
        var vector = "[" + string.Join(",", Enumerable.Repeat("0.123456789", 100)) + "]";
        var body = $$"""{"model":"{{Model}}","embeddings":[{{string.Join(",", Enumerable.Repeat(vector, 40))}}],"prompt_eval_count":1}""";
        _upstream.EmbedBehavior = _ => new UpstreamReply { Body = body };

        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.MaxResponseBytes = 16 * 1024).EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
        Assert.Contains("16384", error.Message);
    }

    [Fact]
    public async Task Embed_ConnectionRefused_IsUpstreamFailed()
    {
        var error = await Assert.ThrowsAsync<GatewayException>(() =>
            CreateGateway(o => o.BaseUrl = $"http://127.0.0.1:{TestPorts.Closed()}").EmbedAsync(Request("hi"), _testTimeout.Token));

        Assert.Equal(GatewayError.UpstreamFailed, error.Error);
    }

    private IEmbeddingGateway CreateGateway(Action<ProviderOptions>? configure = null)
    {
        var options = new ProviderOptions { Kind = ProviderKinds.Ollama, BaseUrl = _upstream.BaseUrl, TimeoutSeconds = 10 };
        configure?.Invoke(options);
        var gateway = new OllamaChatGatewayFactory().Create("local", options);
        _gateways.Add(gateway);
        return Assert.IsAssignableFrom<IEmbeddingGateway>(gateway.GetService(typeof(IEmbeddingGateway)));
    }

    private static EmbeddingRequest Request(params string[] inputs) => new() { Model = Model, Inputs = [.. inputs] };

}
