using Gatehouse.Errors;
using Gatehouse.Providers;
using Xunit;

namespace Gatehouse.Tests.Providers;

public sealed class UpstreamErrorsTests
{
    private const string OpenAIServerError = """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""";

    [Theory]
    [InlineData(429, GatewayError.RateLimited)]
    [InlineData(401, GatewayError.UpstreamAuthFailed)]
    [InlineData(403, GatewayError.UpstreamAuthFailed)]
    [InlineData(408, GatewayError.UpstreamFailed)]
    [InlineData(500, GatewayError.UpstreamFailed)]
    [InlineData(502, GatewayError.UpstreamFailed)]
    [InlineData(503, GatewayError.UpstreamFailed)]
    [InlineData(529, GatewayError.UpstreamFailed)]
    [InlineData(400, GatewayError.InvalidRequest)]
    [InlineData(404, GatewayError.InvalidRequest)]
    [InlineData(422, GatewayError.InvalidRequest)]
    public void FromHttpStatus_Status_MapsToErrorClass(int status, GatewayError expected)
    {
        var ex = UpstreamErrors.FromHttpStatus("p", status, OpenAIServerError);

        Assert.Equal(expected, ex.Error);
        Assert.Equal(status, ex.UpstreamStatus);
        Assert.Contains("'p'", ex.Message);
    }

    [Theory]
    [InlineData("""{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""")]
    [InlineData("""{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":null,"code":null}}""")]
    [InlineData("""{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}""")]
    public void FromHttpStatus_ContextLengthBody_MapsToContextLengthExceeded(string body)
    {
        var ex = UpstreamErrors.FromHttpStatus("p", 400, body);

        Assert.Equal(GatewayError.ContextLengthExceeded, ex.Error);
    }

    [Fact]
    public void FromHttpStatus_BadRequest_PassesUpstreamMessageAndParam()
    {
        var ex = UpstreamErrors.FromHttpStatus("p", 400, """{"error":{"message":"Invalid 'top_p'.","type":"invalid_request_error","param":"top_p","code":"invalid_value"}}""");

        Assert.Equal("provider 'p' rejected the request (HTTP 400): Invalid 'top_p'.", ex.Message);
        Assert.Equal("top_p", ex.Param);
    }

    [Fact]
    public void FromHttpStatus_Unauthorized_DoesNotEchoUpstreamMessage()
    {
        var ex = UpstreamErrors.FromHttpStatus("p", 401, """{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");

        Assert.Equal("provider 'p' rejected the gateway's credentials (HTTP 401)", ex.Message);
    }

    [Theory]
    [InlineData("20", null, 20_000)]
    [InlineData("1.5", null, 1_500)]
    [InlineData("20", "250", 250)]
    [InlineData(null, "120", 120)]
    public void FromHttpStatus_RateLimitedWithRetryHeaders_CarriesRetryAfter(string? retryAfter, string? retryAfterMs, int expectedMs)
    {
        var ex = UpstreamErrors.FromHttpStatus("p", 429, null, retryAfter, retryAfterMs);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ex.RetryAfter);
    }

    [Fact]
    public void ParseRetryAfter_HttpDate_IsRelativeToNow()
    {
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var delay = UpstreamErrors.ParseRetryAfter("Fri, 02 Jan 2026 03:04:35 GMT", null, now);

        Assert.Equal(TimeSpan.FromSeconds(30), delay);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("soon")]
    [InlineData("-3")]
    public void ParseRetryAfter_Unusable_ReturnsNull(string? value) =>
        Assert.Null(UpstreamErrors.ParseRetryAfter(value, null, DateTimeOffset.UnixEpoch));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("<html>Bad Gateway</html>")]
    [InlineData("[1,2]")]
    public void FromHttpStatus_UnreadableBody_StillClassifies(string? body)
    {
        var ex = UpstreamErrors.FromHttpStatus("p", 400, body);

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.Equal("provider 'p' rejected the request (HTTP 400)", ex.Message);
    }

    [Fact]
    public void ParseErrorBody_PlainErrorString_ReadsMessage()
    {
        var detail = UpstreamErrors.ParseErrorBody("""{"error":"model 'llama3' not found"}""");

        Assert.Equal("model 'llama3' not found", detail.Message);
    }

    [Fact]
    public void FromTransportFailure_Any_IsUpstreamFailedNamingProvider()
    {
        var ex = UpstreamErrors.FromTransportFailure("p", new HttpRequestException("Connection refused (127.0.0.1:1)"));

        Assert.Equal(GatewayError.UpstreamFailed, ex.Error);
        Assert.Equal("could not connect to provider 'p'", ex.Message);
        Assert.True(UpstreamErrors.IsTransportFailure(new InvalidOperationException("x", new IOException())));
        Assert.False(UpstreamErrors.IsTransportFailure(new InvalidOperationException("x")));
    }

    [Fact]
    public void Timeout_Any_IsUpstreamTimeout()
    {
        var ex = UpstreamErrors.Timeout("p", TimeSpan.FromSeconds(0.5));

        Assert.Equal(GatewayError.UpstreamTimeout, ex.Error);
        Assert.Equal("provider 'p' did not answer within 0.5 s", ex.Message);
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", GatewayError.UpstreamFailed, 529)]
    [InlineData("""{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}""", GatewayError.RateLimited, 429)]
    [InlineData("""{"type":"error","error":{"type":"api_error","message":"Internal server error"}}""", GatewayError.UpstreamFailed, 500)]
    [InlineData("""{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}""", GatewayError.InvalidRequest, 400)]
    [InlineData("""{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""", GatewayError.UpstreamAuthFailed, 401)]
    [InlineData("""{"error":"an error was encountered while running the model"}""", GatewayError.UpstreamFailed, 500)]
    [InlineData(null, GatewayError.UpstreamFailed, 500)]
    public void FromStreamError_ErrorEvent_ClassifiedByItsType(string? body, GatewayError expected, int status)
    {
        var ex = UpstreamErrors.FromStreamError("p", body);

        Assert.Equal(expected, ex.Error);
        Assert.Equal(status, ex.UpstreamStatus);
    }

    [Theory]
    [InlineData("invalid_request_error", 400)]
    [InlineData("authentication_error", 401)]
    [InlineData("permission_error", 403)]
    [InlineData("not_found_error", 404)]
    [InlineData("request_too_large", 413)]
    [InlineData("rate_limit_error", 429)]
    [InlineData("timeout_error", 504)]
    [InlineData("overloaded_error", 529)]
    [InlineData("something_new", 500)]
    public void StatusForErrorType_AnthropicTypes_MapToTheirStatus(string type, int status) =>
        Assert.Equal(status, UpstreamErrors.StatusForErrorType(type));
}
