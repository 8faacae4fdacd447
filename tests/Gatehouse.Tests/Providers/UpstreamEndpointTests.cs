using System.Globalization;
using System.Net;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gatehouse.Tests.Providers;

public sealed class UpstreamEndpointTests : IDisposable
{
    private const string ProviderName = "up";
    private const string ProviderKey = "up-key-0123456789";
    private const int TimeoutSeconds = 5;
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Uri MethodUri = new("http://127.0.0.1:9/v1/method");

    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(20));
    private readonly FakeTimeProvider _time = new(Now);
    private readonly CapturingLoggerProvider _logs = new();
    private readonly FakeUpstreamHandler _upstream = new();

    public void Dispose()
    {
        _testTimeout.Dispose();
        _logs.Dispose();
    }

    [Theory]
    [InlineData("/v1")]
    [InlineData("v1/chat")]
    [InlineData("api.example.com/v1")]
    [InlineData("ftp://example.com/v1")]
    [InlineData("not a url")]
    public void Constructor_RelativeOrNonHttpBaseUrl_RefusedNamingTheProvider(string baseUrl)
    {
        var error = Assert.Throws<InvalidOperationException>(() => CreateEndpoint(o => o.BaseUrl = baseUrl));

        Assert.Equal("Gatehouse:Providers:up:BaseUrl must be an absolute http(s) URL.", error.Message);
    }

    [Fact]
    public void Constructor_NoBaseUrlAndNoDefault_RefusedNamingTheProviderAndKind()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CreateEndpoint(o => o.BaseUrl = null, defaultBaseUrl: null));

        Assert.Equal("Gatehouse:Providers:up:BaseUrl is required for a provider of kind OpenAICompatible.", error.Message);
    }

    [Fact]
    public void Constructor_RequiredKeyMissing_RefusedNamingTheProviderAndKind()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CreateEndpoint(o => o.ApiKey = null, apiKeyRequired: true));

        Assert.Equal(
            "Gatehouse:Providers:up:ApiKey is required for a provider of kind OpenAICompatible (a key, or env:NAME of a variable that is set).",
            error.Message);
    }

    [Fact]
    public void Constructor_BaseUrlWithTrailingSlash_KeptInTheUriAndTrimmedForPaths()
    {
        using var endpoint = CreateEndpoint(o => o.BaseUrl = "http://127.0.0.1:9/v1/");

        Assert.Equal(new Uri("http://127.0.0.1:9/v1/"), endpoint.BaseUri);
        Assert.Equal("http://127.0.0.1:9/v1", endpoint.BaseUrl);
    }

    [Fact]
    public void Constructor_NoBaseUrl_UsesTheDefault()
    {
        using var endpoint = CreateEndpoint(o => o.BaseUrl = " ", defaultBaseUrl: "https://api.example.com/v1");

        Assert.Equal(new Uri("https://api.example.com/v1"), endpoint.BaseUri);
    }

    [Fact]
    public async Task PostAsync_UpstreamOutlivesTheTimeout_TranslatesToUpstreamTimeout()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.SendAsyncCallback = async (_, cancellationToken) =>
        {
            arrived.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("the upstream double was never cancelled");
        };
        using var endpoint = CreateEndpoint();
        using var timeout = endpoint.StartTimeout(_testTimeout.Token);

        var call = endpoint.PostAsync(MethodUri, Body(), timeout.Token);
        await arrived.Task.WaitAsync(_testTimeout.Token);
        _time.Advance(TimeSpan.FromSeconds(TimeoutSeconds));
        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        var error = Assert.IsType<GatewayException>(endpoint.Failures.Translate(thrown, timeout));
        var adapters = UpstreamErrors.Timeout(ProviderName, TimeSpan.FromSeconds(TimeoutSeconds));
        Assert.Equal(GatewayError.UpstreamTimeout, error.Error);
        Assert.Equal(adapters.Message, error.Message);
        Assert.Equal("provider 'up' did not answer within 5 s", error.Message);
        Assert.Equal(new[] { "Provider up did not answer within 5 s" }, _logs.Entries);
    }

    [Fact]
    public async Task PostAsync_CallerCancels_IsACancellationNotATimeout()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.SendAsyncCallback = async (_, cancellationToken) =>
        {
            arrived.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("the upstream double was never cancelled");
        };
        using var endpoint = CreateEndpoint();
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(_testTimeout.Token);
        using var timeout = endpoint.StartTimeout(caller.Token);

        var call = endpoint.PostAsync(MethodUri, Body(), timeout.Token);
        await arrived.Task.WaitAsync(_testTimeout.Token);
        await caller.CancelAsync();
        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        var translated = endpoint.Failures.Translate(thrown, timeout);
        Assert.IsAssignableFrom<OperationCanceledException>(translated);
        Assert.False(timeout.TimedOut);
        Assert.Empty(_logs.Entries);
    }

    public static TheoryData<int, string?, GatewayError, string, int?> Statuses() => new()
    {
        { 429, "7", GatewayError.RateLimited, "provider 'up' is rate limiting the gateway (HTTP 429)", 7 },
        { 401, null, GatewayError.UpstreamAuthFailed, "provider 'up' rejected the gateway's credentials (HTTP 401)", null },
        { 403, null, GatewayError.UpstreamAuthFailed, "provider 'up' rejected the gateway's credentials (HTTP 403)", null },
        { 400, null, GatewayError.InvalidRequest, "provider 'up' rejected the request (HTTP 400): temperature is out of range", null },
        { 500, "3", GatewayError.UpstreamFailed, "provider 'up' failed (HTTP 500)", null },
        { 503, "2", GatewayError.UpstreamFailed, "provider 'up' failed (HTTP 503)", 2 },
    };

    [Theory]
    [MemberData(nameof(Statuses))]
    public async Task PostAsync_NonSuccessStatus_ThrowsItClassifiedAndLogged(
        int status, string? retryAfter, GatewayError expectedError, string expectedMessage, int? expectedRetryAfterSeconds)
    {
        _upstream.SendAsyncCallback = (_, _) => Task.FromResult(
            Answer((HttpStatusCode)status, """{"error":{"message":"temperature is out of range","type":"invalid_request_error"}}""", retryAfter));
        using var endpoint = CreateEndpoint();
        using var timeout = endpoint.StartTimeout(_testTimeout.Token);

        var error = await Assert.ThrowsAsync<GatewayException>(() => endpoint.PostAsync(MethodUri, Body(), timeout.Token));

        Assert.Equal(expectedError, error.Error);
        Assert.Equal(expectedMessage, error.Message);
        Assert.Equal(status, error.UpstreamStatus);
        Assert.Equal(expectedRetryAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null, error.RetryAfter);
        Assert.Equal(new[] { $"Provider up failed with HTTP {status} ({expectedError})" }, _logs.Entries);
    }

    [Fact]
    public async Task PostAsync_RetryAfterAsAnHttpDate_ResolvedAgainstTheInjectedClock()
    {
        var date = Now.AddSeconds(30).ToString("r", CultureInfo.InvariantCulture);
        _upstream.SendAsyncCallback = (_, _) => Task.FromResult(Answer(HttpStatusCode.TooManyRequests, "{}", date));
        using var endpoint = CreateEndpoint();
        using var timeout = endpoint.StartTimeout(_testTimeout.Token);

        var error = await Assert.ThrowsAsync<GatewayException>(() => endpoint.PostAsync(MethodUri, Body(), timeout.Token));

        Assert.Equal(TimeSpan.FromSeconds(30), error.RetryAfter);
    }

    [Fact]
    public async Task PostAsync_RejectionQuotesTheKey_PassedOnRedacted()
    {
        _upstream.SendAsyncCallback = (_, _) => Task.FromResult(
            Answer(HttpStatusCode.BadRequest, $$$"""{"error":{"message":"unknown header value {{{ProviderKey}}}"}}""", retryAfter: null));
        using var endpoint = CreateEndpoint();
        using var timeout = endpoint.StartTimeout(_testTimeout.Token);

        var error = await Assert.ThrowsAsync<GatewayException>(() => endpoint.PostAsync(MethodUri, Body(), timeout.Token));

        Assert.Equal("provider 'up' rejected the request (HTTP 400): unknown header value [REDACTED]", error.Message);
    }

    [Fact]
    public async Task PostAsync_VendorClassification_IsWhatIsThrown()
    {
        _upstream.SendAsyncCallback = (_, _) => Task.FromResult(Answer(HttpStatusCode.BadRequest, "vendor body", "4"));
        using var endpoint = CreateEndpoint();
        using var timeout = endpoint.StartTimeout(_testTimeout.Token);
        var seen = new List<string?>();
        var vendorError = new GatewayException(GatewayError.UpstreamAuthFailed, "the vendor's own classification");

        var error = await Assert.ThrowsAsync<GatewayException>(() => endpoint.PostAsync(
            MethodUri, Body(), timeout.Token, (status, body, retryAfter) =>
            {
                seen.AddRange([status.ToString(CultureInfo.InvariantCulture), body, retryAfter]);
                return vendorError;
            }));

        Assert.Same(vendorError, error);
        Assert.Equal(new[] { "400", "vendor body", "4" }, seen);
    }

    [Fact]
    public async Task PostAsync_SuccessStatus_ReturnsTheResponseUnread()
    {
        _upstream.SendAsyncCallback = (_, _) => Task.FromResult(Answer(HttpStatusCode.OK, """{"ok":true}""", retryAfter: null));
        using var endpoint = CreateEndpoint();
        using var timeout = endpoint.StartTimeout(_testTimeout.Token);

        using var response = await endpoint.PostAsync(MethodUri, Body(), timeout.Token);

        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync(_testTimeout.Token));
        Assert.Empty(_logs.Entries);
    }

    [Fact]
    public void NewAnswerId_TwoAnswersAtTheSameInstant_DifferAndCarryThePrefix()
    {
        using var endpoint = CreateEndpoint();

        var first = endpoint.NewAnswerId("vendor");
        var second = endpoint.NewAnswerId("vendor");

        Assert.StartsWith("vendor-", first, StringComparison.Ordinal);
        Assert.StartsWith("vendor-", second, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }

    private UpstreamEndpoint CreateEndpoint(
        Action<ProviderOptions>? configure = null, string? defaultBaseUrl = "http://127.0.0.1:9/v1", bool apiKeyRequired = false)
    {
        var options = new ProviderOptions
        {
            Kind = ProviderKinds.OpenAICompatible,
            BaseUrl = "http://127.0.0.1:9/v1",
            ApiKey = ProviderKey,
            TimeoutSeconds = TimeoutSeconds,
        };
        configure?.Invoke(options);
        return new UpstreamEndpoint(
            ProviderName, options, UpstreamRedactor.PatternsOnly, _time, _logs.CreateLogger(nameof(UpstreamEndpointTests)),
            defaultBaseUrl, apiKeyRequired, (_, inner) => _upstream.Over(inner));
    }

    private static ByteArrayContent Body() => UpstreamEndpoint.JsonContent("{}"u8.ToArray());

    private static HttpResponseMessage Answer(HttpStatusCode status, string body, string? retryAfter)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (retryAfter is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        return response;
    }

    /// <summary>Stands in for the upstream: the endpoint's vendor handler, answering every request from a callback.</summary>
    private sealed class FakeUpstreamHandler
    {
        public Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> SendAsyncCallback { get; set; } =
            (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));

        public DelegatingHandler Over(HttpMessageHandler inner) => new Handler(this, inner);

        private sealed class Handler(FakeUpstreamHandler owner, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
                owner.SendAsyncCallback(request, cancellationToken);
        }
    }
}
