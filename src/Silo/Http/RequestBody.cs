using System.Text.Json;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Silo.Http;

/// <summary>Reads a JSON request body within the configured size limit, turning every failure into a clear 400 or 413.</summary>
internal static class RequestBody
{
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        try
        {
            return await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException)
        {
            throw new GatewayException(GatewayError.InvalidRequest,
                "We could not parse the JSON body of your request. The API expects a JSON payload, but what was sent was not valid JSON.");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            // Kestrel reports some malformed bodies, such as a chunk size too long for a number, as a plain IOException.
            throw new GatewayException(GatewayError.InvalidRequest, "The request body could not be read: its chunked encoding or length is malformed.");
        }
    }

    private static GatewayException TooLarge(long maxBytes) =>
        new(GatewayError.PayloadTooLarge, $"The request body is larger than the gateway accepts ({maxBytes} bytes).");
}
