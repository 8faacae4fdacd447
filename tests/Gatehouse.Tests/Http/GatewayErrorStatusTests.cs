using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class GatewayErrorStatusTests
{
    [Theory]
    [InlineData(GatewayError.InvalidRequest, 400, "invalid_request_error", null)]
    [InlineData(GatewayError.ContextLengthExceeded, 400, "invalid_request_error", "context_length_exceeded")]
    [InlineData(GatewayError.Unauthenticated, 401, "invalid_request_error", "invalid_api_key")]
    [InlineData(GatewayError.ModelNotAllowed, 403, "permission_error", "model_not_allowed")]
    [InlineData(GatewayError.ModelNotFound, 404, "invalid_request_error", "model_not_found")]
    [InlineData(GatewayError.PayloadTooLarge, 413, "invalid_request_error", "request_too_large")]
    [InlineData(GatewayError.RateLimited, 429, "rate_limit_error", "rate_limit_exceeded")]
    [InlineData(GatewayError.UpstreamFailed, 502, "api_error", "upstream_error")]
    [InlineData(GatewayError.UpstreamAuthFailed, 502, "api_error", "upstream_auth_failed")]
    [InlineData(GatewayError.NoTargetAvailable, 503, "api_error", "no_target_available")]
    [InlineData(GatewayError.UpstreamTimeout, 504, "api_error", "upstream_timeout")]
    [InlineData(GatewayError.Canceled, 499, "api_error", "canceled")]
    [InlineData(GatewayError.None, 500, "api_error", null)]
    public void Map_EachError_ReturnsDocumentedStatusTypeAndCode(GatewayError error, int status, string type, string? code)
    {
        Assert.Equal(status, GatewayErrorStatus.ToStatusCode(error));
        Assert.Equal((type, code), GatewayErrorStatus.ToOpenAITypeAndCode(error));
    }

    [Fact]
    public void ToStatusCode_EveryDefinedError_IsMappedExplicitly()
    {
        // Only None may fall through to 500: a new GatewayError must be given its status here, in one place.
        var unmapped = Enum.GetValues<GatewayError>()
            .Where(e => e != GatewayError.None && GatewayErrorStatus.ToStatusCode(e) == 500);

        Assert.Empty(unmapped);
    }
}
