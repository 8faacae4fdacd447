using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>
/// The body of an error the framework decided on (no route, wrong method, headers too large, a request Kestrel could not
/// parse): its message for the status, in the envelope of the vendor whose API the request path belongs to.
/// </summary>
internal static class FrameworkErrorBody
{
    /// <summary><c>/v1/messages</c> and the paths under it speak Anthropic's API; every other path OpenAI's.</summary>
    public static bool IsAnthropicPath(ReadOnlySpan<char> path) =>
        path.StartsWith("/v1/messages", StringComparison.Ordinal) && (path.Length == 12 || path[12] == '/');

    public static string Message(int status, string? method, string? path, string? allow) => status switch
    {
        StatusCodes.Status404NotFound when method is not null => $"Unknown request URL: {method} {Shorten(path)}. Check the URL for typos; the API lives under /v1.",
        StatusCodes.Status404NotFound => "Unknown request URL.",
        StatusCodes.Status405MethodNotAllowed when allow is not null => $"Method {method} is not allowed for {Shorten(path)}; use {allow}.",
        StatusCodes.Status405MethodNotAllowed => $"Method {method} is not allowed for {Shorten(path)}.",
        StatusCodes.Status400BadRequest =>
            "The request could not be read: its request line or headers are malformed (for example a missing Host header, an invalid Content-Length, or a character not allowed in a header).",
        StatusCodes.Status408RequestTimeout => "The request headers did not arrive in time.",
        StatusCodes.Status411LengthRequired => "The request needs a Content-Length or a chunked Transfer-Encoding.",
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than the gateway accepts.",
        StatusCodes.Status414UriTooLong => "The request URL is too long.",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "The request headers are too large or too many.",
        >= 500 => "The gateway failed to process the request.",
        _ => $"The request failed: {ReasonPhrases.GetReasonPhrase(status)}.",
    };

    public static void Write(Utf8JsonWriter writer, bool anthropic, int status, string message)
    {
        writer.WriteStartObject();
        if (anthropic)
        {
            writer.WriteString("type"u8, "error"u8);
            writer.WriteStartObject("error"u8);
            writer.WriteString("type"u8, AnthropicType(status));
            writer.WriteString("message"u8, message);
        }
        else
        {
            writer.WriteStartObject("error"u8);
            writer.WriteString("message"u8, message);
            writer.WriteString("type"u8, status >= 500 ? "api_error"u8 : "invalid_request_error"u8);
            writer.WriteNull("param"u8);
            writer.WriteNull("code"u8);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string AnthropicType(int status) => status switch
    {
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>The path as the caller sent it, cut short so a huge URL does not make a huge error.</summary>
    private static string Shorten(string? path) => path is { Length: > 200 } ? path[..200] + "..." : path ?? "";
}
