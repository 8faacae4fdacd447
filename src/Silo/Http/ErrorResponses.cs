using System.Text.Json;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http;

/// <summary>Turns failures into the vendors' error envelopes, never leaking internals.</summary>
internal static partial class ErrorResponses
{
    /// <summary>The error to show the caller; anything that is not a <see cref="GatewayException"/> is logged and hidden.</summary>
    public static GatewayException ToGatewayException(Exception exception, ILogger logger)
    {
        switch (exception)
        {
            case GatewayException gateway:
                return gateway;
            case BadHttpRequestException bad:
                return new GatewayException(
                    bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? GatewayError.PayloadTooLarge : GatewayError.InvalidRequest,
                    "The request could not be read.");
            case OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException:
                // A silo serving part of the request (a quota authority, a cache shard) went away or is restarting.
                return new GatewayException(GatewayError.NoTargetAvailable, "The gateway is busy or restarting; retry the request.");
            default:
                LogUnhandled(logger, exception);
                return new GatewayException(GatewayError.None, "The gateway failed to process the request.");
        }
    }

    /// <summary>OpenAI's envelope: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static void WriteOpenAIError(Utf8JsonWriter writer, GatewayException error)
    {
        var (type, code) = GatewayErrorStatus.ToOpenAITypeAndCode(error.Error);
        writer.WriteStartObject();
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, error.Message);
        writer.WriteString("type"u8, type);
        if (error.Param is null)
        {
            writer.WriteNull("param"u8);
        }
        else
        {
            writer.WriteString("param"u8, error.Param);
        }

        if (code is null)
        {
            writer.WriteNull("code"u8);
        }
        else
        {
            writer.WriteString("code"u8, code);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    [LoggerMessage(EventId = GatehouseEventIds.UnhandledRequestError, Level = LogLevel.Error, Message = "Request failed unexpectedly")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
