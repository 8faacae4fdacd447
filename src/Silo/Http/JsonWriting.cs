using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gatehouse.Silo.Http;

internal static class JsonWriting
{
    /// <summary>
    /// Responses go to API clients, not into HTML, so only what JSON itself requires is escaped; this keeps
    /// non-ASCII text readable and the bodies as small as the vendors' own.
    /// </summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
}
