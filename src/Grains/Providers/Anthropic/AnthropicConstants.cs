namespace Gatehouse.Providers.Anthropic;

/// <summary>Defaults of the Anthropic adapter.</summary>
public static class AnthropicConstants
{
    public const string DefaultBaseUrl = "https://api.anthropic.com";

    /// <summary>The <c>anthropic-version</c> sent upstream: the Messages API version this adapter is written to.</summary>
    public const string ApiVersion = "2023-06-01";

    /// <summary>The <c>max_tokens</c> sent when neither the caller nor the provider's config set one: Anthropic requires it.</summary>
    public const int DefaultMaxTokens = 4096;
}
