namespace Gatehouse.Silo.Http;

/// <summary>Reads the caller's app key from <c>Authorization: Bearer</c> (OpenAI SDKs, Anthropic SDK) or <c>x-api-key</c> (Anthropic style).</summary>
internal static class AppKeyReader
{
    private const string BearerPrefix = "Bearer ";

    public static string? Read(HttpRequest request)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count > 0 && authorization[0] is { } value && value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var key = value.AsSpan(BearerPrefix.Length).Trim();
            if (!key.IsEmpty)
            {
                return key.ToString();
            }
        }

        var apiKey = request.Headers["x-api-key"];
        return apiKey.Count > 0 && !string.IsNullOrWhiteSpace(apiKey[0]) ? apiKey[0]!.Trim() : null;
    }
}
