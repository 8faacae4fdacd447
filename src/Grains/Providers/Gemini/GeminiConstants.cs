namespace Gatehouse.Providers.Gemini;

/// <summary>Defaults of the Gemini adapter.</summary>
public static class GeminiConstants
{
    /// <summary>The Gemini API's public endpoint, without an API version: the adapter adds <see cref="ApiVersion"/>.</summary>
    public const string DefaultBaseUrl = "https://generativelanguage.googleapis.com";

    /// <summary>
    /// The API version path the adapter calls (<c>{BaseUrl}/v1beta/models/{model}:generateContent</c>); a BaseUrl that
    /// already ends in a version segment (<c>/v1beta</c>, <c>/v1</c>) is used as it is.
    /// </summary>
    public const string ApiVersion = "v1beta";

    /// <summary>The header the key is sent in; never the <c>key</c> query parameter, which ends up in access logs.</summary>
    public const string ApiKeyHeader = "x-goog-api-key";
}
