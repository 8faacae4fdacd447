using System.Text;
using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class ErrorResponsesTests
{
    [Fact]
    public void WriteOpenAIError_InvalidRequestWithParam_WritesEnvelope()
    {
        var error = new GatewayException(GatewayError.InvalidRequest, "'messages' is a required property", "messages");

        Assert.Equal(
            """{"error":{"message":"'messages' is a required property","type":"invalid_request_error","param":"messages","code":null}}""",
            Write(error));
    }

    [Fact]
    public void WriteOpenAIError_RateLimitedWithoutParam_WritesNullParamAndCode()
    {
        var error = new GatewayException(GatewayError.RateLimited, "Slow down.", retryAfter: TimeSpan.FromSeconds(3));

        Assert.Equal(
            """{"error":{"message":"Slow down.","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}""",
            Write(error));
    }

    [Fact]
    public void ToGatewayException_GatewayException_ReturnsItUnchanged()
    {
        var error = new GatewayException(GatewayError.ModelNotFound, "The model 'x' does not exist.", "model");

        Assert.Same(error, ErrorResponses.ToGatewayException(error, NullLogger.Instance));
    }

    [Fact]
    public void ToGatewayException_UnexpectedException_HidesItsMessage()
    {
        var exception = new InvalidOperationException("boom: secret-stack-detail at Gatehouse.Internal");

        var error = ErrorResponses.ToGatewayException(exception, NullLogger.Instance);

        Assert.Equal(GatewayError.None, error.Error);
        Assert.Equal(500, GatewayErrorStatus.ToStatusCode(error.Error));
        Assert.Equal("The gateway failed to process the request.", error.Message);
        Assert.Null(error.Param);
        Assert.DoesNotContain("secret-stack-detail", Write(error));
    }

    [Theory]
    [InlineData(StatusCodes.Status413PayloadTooLarge, GatewayError.PayloadTooLarge)]
    [InlineData(StatusCodes.Status400BadRequest, GatewayError.InvalidRequest)]
    public void ToGatewayException_BadHttpRequest_MapsByStatus(int status, GatewayError expected)
    {
        var error = ErrorResponses.ToGatewayException(new BadHttpRequestException("Kestrel detail", status), NullLogger.Instance);

        Assert.Equal(expected, error.Error);
        Assert.Equal("The request could not be read.", error.Message);
    }

    [Fact]
    public void ToGatewayException_SiloUnavailable_ReturnsNoTargetAvailable()
    {
        var error = ErrorResponses.ToGatewayException(new SiloUnavailableException("silo S127.0.0.1:11111 is gone"), NullLogger.Instance);

        Assert.Equal(GatewayError.NoTargetAvailable, error.Error);
        Assert.Equal(503, GatewayErrorStatus.ToStatusCode(error.Error));
        Assert.DoesNotContain("127.0.0.1", error.Message);
    }

    private static string Write(GatewayException error)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, JsonWriting.Options))
        {
            ErrorResponses.WriteOpenAIError(writer, error);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
